"""Runs tests/bench/run --smoke and checks that every scenario and reference produced numbers,
that the ratios were computed and that the plot was written."""
import json
import math
import os
import pathlib
import subprocess
import sys

RUNNER = pathlib.Path(__file__).resolve().parent / "run"
EXPECTED = ["end-to-end", "drain", "status-reads", "responder-200", "submit", "responder-202",
            "redis-benchmark", "kafka-producer"]


def finite_numbers(values):
    return [value for value in values if isinstance(value, (int, float)) and math.isfinite(value)]


def test_smoke_run_writes_results(tmp_path):
    out = tmp_path / "bench"
    # Without these the runner starts a Redis and a Kafka of its own, so the drain scenario's
    # Redis-wide job gauges see no jobs of tests that run at the same time.
    env = {name: value for name, value in os.environ.items()
           if name not in ("JOBGATE_TEST_REDIS_URL", "JOBGATE_TEST_KAFKA_BROKERS")}
    done = subprocess.run([sys.executable, str(RUNNER), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=170, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    document = json.loads((out / "results.json").read_text())
    assert document["mode"] == "smoke"
    assert document["failures"] == {}
    assert document["machine"]["nproc"] >= 1
    results = {result["name"]: result for result in document["results"]}
    assert sorted(results) == sorted(EXPECTED)
    for name in EXPECTED:
        measurements = results[name]["measurements"]
        assert measurements, f"{name} has no measurements"
        for entry in measurements:
            assert entry["repetitions"] >= 1, f"{name} {entry['label']} has no repetitions"
            assert finite_numbers(entry["median"].values()), f"{name} {entry['label']} has no numbers"

    for name in ("submit", "responder-202", "status-reads", "responder-200"):
        for entry in results[name]["measurements"]:
            assert entry["median"]["requests_per_s"] > 0, f"{name} served no request"
            assert entry["median"]["p99_ms"] >= entry["median"]["p50_ms"]
    for entry in results["drain"]["measurements"]:
        assert entry["median"]["seconds"] > 0

    names = [check["name"] for check in document["checks"]]
    assert any(name.startswith("submit throughput") for name in names)
    assert any(name.startswith("status read throughput") for name in names)
    assert any(name.startswith("end-to-end p99") for name in names)
    assert all(math.isfinite(check["value"]) for check in document["checks"])

    plot = out / document["plot"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
