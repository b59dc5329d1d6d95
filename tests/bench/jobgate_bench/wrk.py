"""Runs wrk with tests/bench/wrk_requests.lua and returns the summary its done() prints."""
import json
import os
import pathlib
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "wrk_requests.lua"


def run_wrk(url, connections, seconds, path, api_key=None, body=None, ids_file=None, threads=2):
    """Run one wrk load of `seconds` and return throughput and latency figures (ms)."""
    env = dict(os.environ)
    env["BENCH_PATH"] = path
    for name, value in (("BENCH_API_KEY", api_key), ("BENCH_BODY", body),
                        ("BENCH_IDS_FILE", ids_file)):
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)

    threads = max(1, min(threads, connections))
    arguments = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                 "-s", str(SCRIPT), url]
    done = subprocess.run(arguments, env=env, capture_output=True, text=True,
                          timeout=seconds + 60)

    summary = None
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            summary = json.loads(line[len("BENCH_RESULT "):])
    if done.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk failed with exit code {done.returncode}: "
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")

    seconds_measured = summary["duration_us"] / 1e6
    failed = (summary["status_errors"] + summary["connect_errors"] + summary["read_errors"]
              + summary["write_errors"] + summary["timeouts"])
    succeeded = summary["requests"] - summary["status_errors"]
    return {
        "requests_per_s": succeeded / seconds_measured if seconds_measured > 0 else 0.0,
        "p50_ms": summary["p50_us"] / 1000,
        "p90_ms": summary["p90_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "mean_ms": summary["mean_us"] / 1000,
        "max_ms": summary["max_us"] / 1000,
        "requests": summary["requests"],
        "errors": failed,
        "non_2xx": summary["status_errors"],
    }
