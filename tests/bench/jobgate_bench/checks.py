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
# (scenario, other system, its measurement target, minimum or None, description): jobgate's
# throughput over a peer's or the Beast responder's at each connection count. A ratio without a
# minimum is informative. The Beast ratios separate the gateway's own work from what Beast and
# Asio cost.
PEER_RATIOS = [
    ("submit", "beast-202", "beast", None, "submit throughput / Beast responder throughput"),
    ("status-reads", "beast-200", "beast", None,
     "status read throughput / Beast responder throughput"),
    ("submit", "bullmq", "submit", 5.0, "submit throughput / BullMQ submit throughput"),
    ("submit", "celery-flower", "submit", 20.0,
     "submit throughput / Celery+Flower submit throughput"),
    ("status-reads", "bullmq", "status-read", None,
     "status read throughput / BullMQ status read throughput"),
    ("status-reads", "celery-flower", "status-read", None,
     "status read throughput / Celery+Flower status read throughput"),
]
# Upper limit of the gateway's peak resident memory during a streamed import upload, in MiB.
UPLOAD_PEAK_RSS_MIB = 64
# (reference, its measurement target, minimum, description): import rows per second over the
# reference's at each CSV size.
IMPORT_RATIOS = [
    ("redis-pipe", "redis-cli --pipe", 0.5,
     "import throughput / redis-cli --pipe rate of the import's commands"),
    ("python-import", "python", 5.0, "import throughput / plain Python import throughput"),
]
# Upper limit of the seconds per row of the largest import over those of the smallest: 1 is
# linear, and the rest allows for the noise of a shared machine.
IMPORT_COST_GROWTH = 1.25
# Upper limit of the import worker's peak resident memory during the largest import, in MiB.
IMPORT_WORKER_PEAK_RSS_MIB = 128


def _met(value, comparison, target):
    if not math.isfinite(value):
        return False
    return value >= target if comparison == ">=" else value <= target if comparison == "<=" \
        else value < target


def _check(name, value, comparison, target, detail):
    return {"name": name, "value": value, "comparison": comparison, "target": target,
            "met": _met(value, comparison, target), "detail": detail}


def _peer_ratios(results):
    """Return the peer ratios with a minimum as checks, and those without one as informative."""
    checks, informative = [], []
    for scenario, peer, peer_target, minimum, description in PEER_RATIOS:
        if scenario not in results or peer not in results:
            continue
        for entry in results[scenario].measurements:
            other = results[peer].find(peer_target, entry.label)
            if other is None:
                continue
            ours = entry.median().get("requests_per_s", math.nan)
            theirs = other.median().get("requests_per_s", math.nan)
            value = ours / theirs if theirs else math.nan
            name = f"{description} at {entry.label}"
            detail = f"{ours:.2f} / {theirs:.2f} requests_per_s"
            if minimum is None:
                informative.append({"name": name, "value": value, "detail": detail})
            else:
                checks.append(_check(name, value, ">=", minimum, detail))
    return checks, informative


def _import_checks(results):
    """Return the import checks: rows per second against each reference, the growth of the cost
    per row from the smallest to the largest CSV, and the worker's peak memory."""
    checks = []
    if "import" not in results or not results["import"].measurements:
        return checks
    entries = results["import"].measurements

    for reference, target, minimum, description in IMPORT_RATIOS:
        if reference not in results:
            continue
        for entry in entries:
            other = results[reference].find(target, entry.label)
            if other is None:
                continue
            ours = entry.median().get("rows_per_s", math.nan)
            theirs = other.median().get("rows_per_s", math.nan)
            checks.append(_check(f"{description} at {entry.label}",
                                 ours / theirs if theirs else math.nan, ">=", minimum,
                                 f"{ours:.0f} / {theirs:.0f} rows_per_s"))

    smallest = min(entries, key=lambda entry: entry.parameters["rows"])
    largest = max(entries, key=lambda entry: entry.parameters["rows"])
    if largest is not smallest:
        small = smallest.median().get("seconds_per_row", math.nan)
        large = largest.median().get("seconds_per_row", math.nan)
        checks.append(_check(f"import seconds per row at {largest.label} / at {smallest.label} "
                             "(linear or better)", large / small if small else math.nan, "<=",
                             IMPORT_COST_GROWTH,
                             f"{large * 1e6:.2f} / {small * 1e6:.2f} µs per row"))

    peak = largest.median().get("worker_peak_rss_mib", math.nan)
    checks.append(_check(f"import worker peak RSS during the {largest.label} import (MiB)", peak,
                         "<", IMPORT_WORKER_PEAK_RSS_MIB,
                         "VmHWM of a worker started for that import, median over repetitions"))
    return checks


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
    if "upload-memory" in results and results["upload-memory"].measurements:
        entry = results["upload-memory"].measurements[0]
        peak = entry.median().get("peak_rss_mib", math.nan)
        checks.append(_check("gateway peak RSS during the import upload (MiB)", peak, "<",
                             UPLOAD_PEAK_RSS_MIB, f"VmHWM during the {entry.label}"))

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
    if "connection-memory" in results and results["connection-memory"].measurements:
        entry = results["connection-memory"].measurements[0]
        medians = entry.median()
        if math.isfinite(medians.get("kib_per_connection", math.nan)):
            informative.append({"name": "gateway RSS increase per open keep-alive connection (KiB)",
                                "value": medians["kib_per_connection"],
                                "detail": f"{medians['baseline_rss_mib']:.1f} MiB -> "
                                          f"{medians['rss_open_mib']:.1f} MiB with "
                                          f"{medians['connections_open']:.0f} connections open"})
    peer_checks, peer_informative = _peer_ratios(results)
    checks.extend(peer_checks)
    checks.extend(_import_checks(results))
    informative.extend(peer_informative)
    return checks, informative
