"""Fixtures that run real jobgate-gateway and jobgate-worker processes against the Redis and Kafka
that tests/run-services started (JOBGATE_TEST_REDIS_URL, JOBGATE_TEST_KAFKA_BROKERS)."""
import atexit
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from jobgate_client import Client

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("JOBGATE_BUILD_DIR", ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("JOBGATE_SHARED_DIR", ROOT.parent / "shared"))
# batching_stderr_sink in common/log/logger.cpp writes a line at most 50 ms after it is logged.
LOG_FLUSH_WAIT_S = 0.1

# Every stack of a test run shares one blob directory, as replicas share a volume in production:
# all workers consume the same topics in the same consumer groups, so any worker may take any job.
BLOB_DIR = tempfile.mkdtemp(prefix="jobgate-e2e-blobs-")
atexit.register(shutil.rmtree, BLOB_DIR, True)


def redis_cli(*arguments):
    """Runs redis-cli against the shared test Redis and returns its output."""
    url = urllib.parse.urlsplit(os.environ["JOBGATE_TEST_REDIS_URL"])
    return subprocess.run(["redis-cli", "-h", url.hostname, "-p", str(url.port), *arguments],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Webhook targets in tests are local HTTP receivers, so the gateway accepts loopback and http URLs.
WEBHOOK_TEST_ARGUMENTS = ["--webhook-allow-addresses", "loopback", "--webhook-allow-http", "true"]


class Stack:
    """A gateway and workers with their own tenant namespace, blob dir and consumer groups."""

    def __init__(self, workdir, gateway_settings=None, worker_count=2,
                 gateway_arguments=WEBHOOK_TEST_ARGUMENTS):
        redis_url = os.environ.get("JOBGATE_TEST_REDIS_URL")
        brokers = os.environ.get("JOBGATE_TEST_KAFKA_BROKERS")
        if not redis_url or not brokers:
            pytest.fail("JOBGATE_TEST_REDIS_URL and JOBGATE_TEST_KAFKA_BROKERS are not set: "
                        "run the tests through scripts/test or tests/run-services")
        self.workdir = pathlib.Path(workdir)
        # Each test takes a tenant of its own through new_client(), so records never mix.
        self.tenants = [("t" + secrets.token_hex(6), secrets.token_hex(16)) for _ in range(40)]
        self.tenant, self.api_key = self.tenants[0]
        self.next_tenant = 1
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "JOBGATE_HTTP_ADDRESS": "127.0.0.1",
            "JOBGATE_HTTP_PORT": str(self.port),
            "JOBGATE_REDIS_URL": redis_url,
            "JOBGATE_KAFKA_BROKERS": brokers,
            "JOBGATE_BLOB_DIR": BLOB_DIR,
            "JOBGATE_API_KEYS": ",".join(f"{key}={tenant}" for tenant, key in self.tenants),
            "JOBGATE_SIGNING_SECRET": secrets.token_hex(32),
            "JOBGATE_LOG_FORMAT": "json",
            # Each worker's metrics listener takes a free loopback port and logs it.
            "JOBGATE_METRICS_ADDRESS": "127.0.0.1",
            "JOBGATE_METRICS_PORT": "0",
            # Tests send bursts far above the default request rate limits and daily quotas, so
            # these are off. The rate limit and quota tests set their own.
            "JOBGATE_SUBMIT_RATE_LIMIT": "0",
            "JOBGATE_READ_RATE_LIMIT": "0",
            "JOBGATE_ROWS_PER_DAY": "0",
            "JOBGATE_EXPORTS_PER_DAY": "0",
        })
        for name, value in (gateway_settings or {}).items():
            self.env[name] = str(value)
        self.gateway_arguments = list(gateway_arguments)
        self.gateway = None
        self.workers = []
        self.worker_count = worker_count
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = Client(self.url, self.api_key)

    def new_client(self):
        """Returns a client of a tenant no other test used, and sets it as this stack's client."""
        self.tenant, self.api_key = self.tenants[self.next_tenant]
        self.next_tenant += 1
        self.client = Client(self.url, self.api_key)
        return self.client

    def start(self):
        self.gateway = self._spawn("jobgate-gateway", self.gateway_arguments, "gateway.log")
        for index in range(self.worker_count):
            self.start_worker(index)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.client.request("GET", "/healthz").status == 200:
                    return self
            except OSError:
                pass
            if self.gateway.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("gateway did not start:\n" + self.log("gateway.log")[-4000:])

    def start_worker(self, index):
        worker = self._spawn("jobgate-worker", ["--kinds", "imports,exports"], f"worker{index}.log")
        if index < len(self.workers):
            self.workers[index] = worker
        else:
            self.workers.append(worker)
        return worker

    def _spawn(self, binary, arguments, log_name):
        log = open(self.workdir / log_name, "ab")
        return subprocess.Popen([str(BUILD / "bin" / binary), *arguments], env=self.env,
                                stdout=log, stderr=subprocess.STDOUT)

    def log(self, name):
        # The daemons write log lines in batches, each at most 50 ms after it was logged, so the
        # read waits that long to see every line logged before the call.
        time.sleep(LOG_FLUSH_WAIT_S)
        path = self.workdir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        for process in [self.gateway, *self.workers]:
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [self.gateway, *self.workers]:
            if process:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def stack():
    workdir = tempfile.mkdtemp(prefix="jobgate-e2e-")
    running = Stack(workdir, {"JOBGATE_MAX_UPLOAD_BYTES": 64 * 1024 * 1024}).start()
    yield running
    running.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def fresh(stack):
    """The module's stack with a tenant of this test's own."""
    stack.new_client()
    return stack


@pytest.fixture
def make_stack():
    """Starts extra stacks with their own settings; stops them after the test."""
    started = []

    def make(settings=None, worker_count=2, gateway_arguments=WEBHOOK_TEST_ARGUMENTS):
        workdir = tempfile.mkdtemp(prefix="jobgate-e2e-")
        running = Stack(workdir, settings, worker_count, gateway_arguments).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
        shutil.rmtree(running.workdir, ignore_errors=True)
