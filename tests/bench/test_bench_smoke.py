"""Runs tests/bench/run --smoke and checks that every scenario and reference produced numbers,
that the ratios were computed and that the plot was written."""
import json
import math
import os
import pathlib
import subprocess
import sys

RUNNER = pathlib.Path(__file__).resolve().parent / "run"
EXPECTED = ["end-to-end", "drain", "status-reads", "responder-200", "beast-200", "submit",
            "responder-202", "beast-202",
            "redis-benchmark", "kafka-producer", "upload-memory", "connection-memory", "bullmq",
            "celery-flower", "import", "export", "redis-pipe", "python-import"]
IMPORT_COUNTS = ["created", "updated", "failed", "skipped_blank"]
PEERS = {"bullmq": "BullMQ", "celery-flower": "Celery+Flower"}


def finite_numbers(values):
    return [value for value in values if isinstance(value, (int, float)) and math.isfinite(value)]


def test_smoke_run_writes_results(tmp_path):
    out = tmp_path / "bench"
    # Without these the runner starts a Redis and a Kafka of its own, so the drain scenario's
    # Redis-wide job gauges see no jobs of tests that run at the same time.
    env = {name: value for name, value in os.environ.items()
           if name not in ("JOBGATE_TEST_REDIS_URL", "JOBGATE_TEST_KAFKA_BROKERS")}
    done = subprocess.run([sys.executable, str(RUNNER), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=env)
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

    for name in ("submit", "responder-202", "beast-202", "status-reads", "responder-200",
                 "beast-200"):
        for entry in results[name]["measurements"]:
            assert entry["median"]["requests_per_s"] > 0, f"{name} served no request"
            assert entry["median"]["p99_ms"] >= entry["median"]["p50_ms"]
    for entry in results["drain"]["measurements"]:
        assert entry["median"]["seconds"] > 0

    packages = document["machine"]["packages"]
    for package in ("bullmq (npm)", "ioredis (npm)", "celery (pip)", "flower (pip)"):
        assert packages[package], f"results.json names no version of {package}"
    for name in PEERS:
        assert results[name]["kind"] == "peer"
        assert results[name]["parameters"]["status_jobs"] == document["sizes"]["status_jobs"]
        targets = sorted(entry["target"] for entry in results[name]["measurements"])
        assert targets == ["status-read", "submit"], f"{name} measured {targets}"
        for entry in results[name]["measurements"]:
            label = f"{name} {entry['target']}"
            assert entry["median"]["requests_per_s"] > 0, f"{label} served no request"
            assert entry["median"]["errors"] == 0, f"{label} had socket errors or timeouts"
            assert entry["median"]["non_2xx"] == 0, f"{label} got responses other than 2xx"
            assert entry["median"]["p99_ms"] >= entry["median"]["p50_ms"]

    upload = results["upload-memory"]["measurements"][0]["median"]
    assert upload["status"] == 202
    assert upload["baseline_rss_mib"] > 0
    assert upload["peak_rss_mib"] >= upload["baseline_rss_mib"]
    assert upload["sampled_max_rss_mib"] > 0
    assert upload["upload_mib_per_s"] > 0
    connections = results["connection-memory"]["measurements"][0]
    assert connections["median"]["connections_open"] == connections["parameters"]["connections"]
    assert connections["median"]["baseline_rss_mib"] > 0
    assert connections["median"]["rss_open_mib"] > connections["median"]["baseline_rss_mib"]
    assert connections["median"]["kib_per_connection"] > 0
    assert connections["median"]["new_connection_status"] == 200

    # The import and both references read the same CSVs, so they agree on what each row became.
    sizes = document["sizes"]["import_rows"]
    imports = {entry["parameters"]["rows"]: entry for entry in results["import"]["measurements"]}
    assert sorted(imports) == sorted(sizes)
    pipe = {entry["parameters"]["rows"]: entry for entry in results["redis-pipe"]["measurements"]}
    python = {entry["parameters"]["rows"]: entry
              for entry in results["python-import"]["measurements"]}
    for rows, entry in imports.items():
        counts = {name: entry["median"][name] for name in IMPORT_COUNTS}
        assert sum(counts.values()) == rows, f"import of {rows} rows counted {counts}"
        for name in ("created", "updated", "failed"):
            assert counts[name] > 0, f"import of {rows} rows has no {name} row"
        assert entry["median"]["rows_per_s"] > 0
        assert {name: pipe[rows]["parameters"][name] for name in IMPORT_COUNTS} == counts
        assert {name: python[rows]["median"][name] for name in IMPORT_COUNTS} == counts
        assert pipe[rows]["median"]["rows_per_s"] > 0
        assert python[rows]["median"]["rows_per_s"] > 0
    assert imports[max(sizes)]["median"]["worker_peak_rss_mib"] > 0
    assert "INCRBY jg:seq:TENANT:contacts" in results["redis-pipe"]["parameters"]["script_commands"]
    exports = results["export"]["measurements"]
    assert sorted(entry["parameters"]["imported_rows"] for entry in exports) == sorted(
        document["sizes"]["export_rows"])
    for entry in exports:
        imported = imports[entry["parameters"]["imported_rows"]]["median"]["created"]
        assert entry["parameters"]["records"] == imported
        assert entry["median"]["rows_per_s"] > 0

    names = [check["name"] for check in document["checks"]]
    assert any(name.startswith("submit throughput") for name in names)
    assert any(name.startswith("status read throughput") for name in names)
    assert any(name.startswith("end-to-end p99") for name in names)
    assert any(name.startswith("gateway peak RSS during the import upload") for name in names)
    for rows in sizes:
        for reference in ("redis-cli --pipe rate", "plain Python import throughput"):
            assert any(name.startswith(f"import throughput / {reference}")
                       and name.endswith(f"at {rows} rows") for name in names)
    assert any(name.startswith("import seconds per row") for name in names)
    assert any(name.startswith("import worker peak RSS") for name in names)
    ratios = [ratio["name"] for ratio in document["informative_ratios"]]
    assert any(name.startswith("gateway RSS increase per open keep-alive") for name in ratios)
    for name, title in PEERS.items():
        for connections in document["sizes"]["connections"]:
            level = f"at {connections} connections"
            assert f"submit throughput / {title} submit throughput {level}" in names
            assert f"status read throughput / {title} status read throughput {level}" in ratios
    for connections in document["sizes"]["connections"]:
        level = f"at {connections} connections"
        assert f"submit throughput / Beast responder throughput {level}" in ratios
        assert f"status read throughput / Beast responder throughput {level}" in ratios
    assert all(math.isfinite(check["value"]) for check in document["checks"])

    plot = out / document["plot"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
