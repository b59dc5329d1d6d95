"""redis-benchmark against a Redis of its own with the settings of deploy/local/services (AOF,
appendfsync everysec). It measures a SET/GET baseline and the EVAL of the job-creation script
exactly as MONITOR showed the gateway sending it, with a random job key per call."""
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

from ..results import Result
from ..stack import free_port

NAME = "redis-benchmark"
RANDOM_KEYSPACE = 1_000_000_000


class OwnRedis:
    def __init__(self):
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="jobgate-bench-redis-"))
        self.port = free_port()
        self.process = None

    def start(self, timeout=15):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--maxmemory-policy", "noeviction", "--daemonize", "no",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "PING"],
                                  capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                return self
            time.sleep(0.05)
        raise RuntimeError("the reference redis-server did not answer PING")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        shutil.rmtree(self.directory, ignore_errors=True)


CSV_NUMBERS = re.compile(r'"([0-9.]+)"')


def run_benchmark(port, clients, requests, arguments):
    """Run redis-benchmark --csv; return one metrics dict per test line."""
    done = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
                           "-c", str(clients), "-n", str(requests), "--csv", *arguments],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed: {done.stderr[-2000:]}")
    rows = []
    for line in done.stdout.splitlines():
        if line.startswith('"test"'):
            continue
        # The test title may contain quotes and commas, so the figures are taken from the end:
        # rps, avg, min, p50, p95, p99, max.
        numbers = CSV_NUMBERS.findall(line)
        if len(numbers) < 7:
            continue
        rps, _, _, p50, _, p99, _ = (float(value) for value in numbers[-7:])
        rows.append({"requests_per_s": rps, "p50_ms": p50, "p99_ms": p99})
    if not rows:
        raise RuntimeError(f"redis-benchmark printed no results: {done.stdout[-2000:]}")
    return rows


def randomized_eval(create_eval, job_id):
    """Return the captured EVAL with the job id replaced by a random one on every call."""
    return [argument.replace(job_id, "bench__rand_int__") for argument in create_eval]


def run(context):
    sizes = context.sizes
    facts = context.submit_facts()
    eval_arguments = randomized_eval(facts["create_eval"], facts["job_id"])
    result = Result(NAME, "reference",
                    "redis-benchmark on a separate redis-server with the stack's settings: "
                    "SET and GET, and the job-creation script with the gateway's arguments "
                    "(the job id randomized per call), sent with EVALSHA as the gateway sends "
                    "it and with EVAL for comparison.",
                    {"clients": sizes.redis_clients, "requests": sizes.redis_requests,
                     "commands_per_submit": facts["redis_commands"],
                     "commands_inside_scripts": facts["redis_script_commands"],
                     "eval_script_bytes": len(facts["create_eval"][1])})
    redis = OwnRedis().start()
    try:
        loaded = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(redis.port), "SCRIPT",
                                 "LOAD", facts["create_eval"][1]],
                                check=True, capture_output=True, text=True, timeout=30)
        digest = loaded.stdout.strip()
        lines = [("SET", ["-t", "set"]), ("GET", ["-t", "get"]),
                 ("EVALSHA create job",
                  ["-r", str(RANDOM_KEYSPACE), "EVALSHA", digest, *eval_arguments[2:]]),
                 ("EVAL create job", ["-r", str(RANDOM_KEYSPACE), *eval_arguments])]
        for label, arguments in lines:
            entry = result.measurement("redis-benchmark", label,
                                       {"clients": sizes.redis_clients,
                                        "requests": sizes.redis_requests})
            run_benchmark(redis.port, sizes.redis_clients,
                          max(100, sizes.redis_requests // 10), arguments)
            for repetition in range(sizes.repetitions):
                metrics = run_benchmark(redis.port, sizes.redis_clients, sizes.redis_requests,
                                        arguments)[0]
                entry.add_run(metrics)
                context.log(f"{NAME} {label} #{repetition + 1}: "
                            f"{metrics['requests_per_s']:.0f} req/s, p99 {metrics['p99_ms']} ms")
    finally:
        redis.stop()
    return [result]
