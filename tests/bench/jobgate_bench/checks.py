"""The ratios of a run and the targets they are held to."""
import math

# (scenario, reference, metric, comparison, target, description)
RATIO_TARGETS = [
    ("submit", "responder-202", "requests_per_s", ">=", 0.5,
     "submit throughput / responder throughput"),
    ("submit", "responder-202", "p99_ms", "<=", 2.0, "submit p99 latency / responder p99 latency"),
    ("status-reads", "responder-200", "requests_per_s", ">=", 0.7,
     "status read throughput / responder throughput"),
]
END_TO_END_TARGETS = [("p50_ms", 10.0), ("p99_ms", 50.0)]


def _met(value, comparison, target):
    if not math.isfinite(value):
        return False
    return value >= target if comparison == ">=" else value <= target if comparison == "<=" \
        else value < target


def _check(name, value, comparison, target, detail):
    return {"name": name, "value": value, "comparison": comparison, "target": target,
            "met": _met(value, comparison, target), "detail": detail}


def compute_checks(results):
    """Return the ratio and latency checks with targets, and informative ratios without one."""
    checks = []
    for scenario, reference, metric, comparison, target, description in RATIO_TARGETS:
        if scenario not in results or reference not in results:
            continue
        for entry in results[scenario].measurements:
            other = results[reference].find("responder", entry.label)
            if other is None:
                continue
            ours = entry.median().get(metric, math.nan)
            theirs = other.median().get(metric, math.nan)
            value = ours / theirs if theirs else math.nan
            checks.append(_check(f"{description} at {entry.label}", value, comparison, target,
                                 f"{ours:.2f} / {theirs:.2f} {metric}"))
    if "end-to-end" in results and results["end-to-end"].measurements:
        medians = results["end-to-end"].measurements[0].median()
        for metric, limit in END_TO_END_TARGETS:
            value = medians.get(metric, math.nan)
            checks.append(_check(f"end-to-end {metric[:3]} latency (ms)", value, "<", limit,
                                 f"median over repetitions of the per-repetition {metric[:3]}"))

    informative = []
    best_submit = None
    if "submit" in results and results["submit"].measurements:
        best_submit = max(entry.median().get("requests_per_s", 0.0)
                          for entry in results["submit"].measurements)
    if best_submit and "redis-benchmark" in results:
        entry = results["redis-benchmark"].find("redis-benchmark", "EVALSHA create job")
        if entry and entry.median().get("requests_per_s"):
            rate = entry.median()["requests_per_s"]
            informative.append({"name": "best submit throughput / redis-benchmark EVALSHA create "
                                        "job rate", "value": best_submit / rate,
                                "detail": f"{best_submit:.0f} / {rate:.0f} per s"})
    if best_submit and "kafka-producer" in results:
        entry = results["kafka-producer"].find("kafka", "unthrottled")
        if entry and entry.median().get("records_per_s"):
            rate = entry.median()["records_per_s"]
            informative.append({"name": "best submit throughput / Kafka unthrottled produce rate",
                                "value": best_submit / rate,
                                "detail": f"{best_submit:.0f} / {rate:.0f} per s"})
    return checks, informative
