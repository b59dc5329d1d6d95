"""A jobgate gateway and a variable number of export workers, started from a build directory
against the Redis and Kafka of tests/run-services, the way tests/e2e/conftest.py starts them."""
import http.client
import json
import os
import pathlib
import re
import secrets
import signal
import socket
import subprocess
import time

EXPORT_BODY = {"name": "bench export", "objectType": "contacts",
               "properties": ["email", "firstname", "lastname"], "format": "csv"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Connection:
    """A keep-alive HTTP/1.1 connection to the gateway that reconnects after a close."""

    def __init__(self, port, api_key, timeout=30):
        self.port = port
        self.api_key = api_key
        self.timeout = timeout
        self.http = None

    def request(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.api_key}"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.http is None:
                self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.http.request(method, path, body=data, headers=headers)
                response = self.http.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, dict(response.getheaders()), payload
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server closed meanwhile: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def submit_export(self, body=None, attempts=10):
        """Submit an export job; return (job id, job path, raw 202 response).

        A 503 is retried after its Retry-After (at most 2 s), as a client would, because the
        gateway rejects submits for a while after its Kafka probe timed out on a busy machine.
        """
        for _ in range(attempts):
            status, headers, payload = self.request("POST", "/v1/exports", body or EXPORT_BODY)
            if status != 503:
                break
            time.sleep(min(2.0, float(headers.get("Retry-After", "1") or 1)))
        if status != 202:
            raise RuntimeError(f"POST /v1/exports returned {status}: {payload[:300]!r}")
        document = json.loads(payload)
        return document["id"], f"/v1/jobs/{document['id']}", (headers, payload)

    def close(self):
        if self.http is not None:
            self.http.close()
            self.http = None


class Stack:
    def __init__(self, build_dir, workdir, redis_url, brokers):
        self.build_dir = pathlib.Path(build_dir)
        self.workdir = pathlib.Path(workdir)
        self.blob_dir = self.workdir / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.redis_url = redis_url
        self.brokers = brokers
        self.tenant = "bench" + secrets.token_hex(4)
        self.api_key = secrets.token_hex(16)
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "JOBGATE_HTTP_ADDRESS": "127.0.0.1",
            "JOBGATE_HTTP_PORT": str(self.port),
            "JOBGATE_REDIS_URL": redis_url,
            "JOBGATE_KAFKA_BROKERS": brokers,
            "JOBGATE_BLOB_DIR": str(self.blob_dir),
            "JOBGATE_API_KEYS": f"{self.api_key}={self.tenant}",
            "JOBGATE_SIGNING_SECRET": secrets.token_hex(32),
            "JOBGATE_METRICS_ADDRESS": "127.0.0.1",
            "JOBGATE_METRICS_PORT": "0",
            # The benchmarks measure the gateway, not its request rate limits or daily quotas.
            "JOBGATE_SUBMIT_RATE_LIMIT": "0",
            "JOBGATE_READ_RATE_LIMIT": "0",
            # The drain scenario runs 10,000 jobs of one tenant on up to 4 workers.
            "JOBGATE_RUNNING_IMPORTS": "0",
            "JOBGATE_RUNNING_EXPORTS": "0",
            "JOBGATE_ROWS_PER_DAY": "0",
            "JOBGATE_EXPORTS_PER_DAY": "0",
        })
        self.gateway = None
        self.workers = []
        self.started_workers = 0

    def binary(self, name):
        path = self.build_dir / "bin" / name
        if not path.exists():
            raise RuntimeError(f"{path} not found: build it with "
                               f"ninja -C {self.build_dir} jobgate-gateway jobgate-worker "
                               f"jobgate-bench-responder, "
                               f"or set JOBGATE_BUILD_DIR")
        return path

    def _spawn(self, name, arguments, log_name):
        log = open(self.workdir / log_name, "ab")
        try:
            return subprocess.Popen([str(self.binary(name)), *arguments], env=self.env,
                                    stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    def start(self, timeout=30):
        self.gateway = self._spawn("jobgate-gateway", [], "gateway.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gateway.poll() is not None:
                break
            try:
                status, _, _ = self.connection().request("GET", "/readyz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gateway did not become ready:\n" + self.log_tail("gateway.log"))

    def log_tail(self, name, size=4000):
        path = self.workdir / name
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def connection(self):
        return Connection(self.port, self.api_key)

    def set_workers(self, count):
        """Stop or start export workers until count of them run; new ones start at once."""
        while len(self.workers) > count:
            self._stop([self.workers.pop()])
        while len(self.workers) < count:
            self.started_workers += 1
            log_name = f"worker{self.started_workers}.log"
            worker = self._spawn("jobgate-worker", ["--kinds", "exports"], log_name)
            worker.log_name = log_name
            self.workers.append(worker)

    def active_exports(self):
        """Return pending plus running export jobs in the whole Redis, from GET /metrics."""
        return self.active_jobs("exports")

    def active_jobs(self, kind):
        """Return pending plus running jobs of kind (imports or exports) in the whole Redis, from
        GET /metrics."""
        status, _, payload = self.connection().request("GET", "/metrics")
        if status != 200:
            raise RuntimeError(f"GET /metrics returned {status}")
        text = payload.decode()
        total = 0
        for gauge in ("jobgate_jobs_pending", "jobgate_jobs_running"):
            match = re.search(gauge + r'\{[^}]*kind="' + kind + r'"[^}]*\}\s+([0-9.e+]+)', text)
            if not match:
                raise RuntimeError(f"GET /metrics has no {gauge} sample for {kind}")
            total += float(match.group(1))
        return int(total)

    def wait_until_drained(self, timeout, poll_interval=0.02):
        """Wait until no export job is pending or running; return the monotonic time seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.active_exports() == 0:
                return time.monotonic()
            for worker in self.workers:
                if worker.poll() is not None:
                    raise RuntimeError(f"worker with pid {worker.pid} exited:\n"
                                       + self.log_tail(worker.log_name))
            time.sleep(poll_interval)
        raise RuntimeError(f"export jobs still active after {timeout} s")

    def _stop(self, processes):
        for process in processes:
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            if process:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def stop(self):
        self._stop([*self.workers, self.gateway])
        self.workers = []
