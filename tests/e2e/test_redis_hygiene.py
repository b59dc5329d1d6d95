"""Redis settings and failures that must not lose jobs: an evicting maxmemory-policy, key TTLs
after every write path, clients that disconnect while a Redis reply is pending, and a Redis that
dies and restarts from its append-only file, and edits by hand that long polls see.

The tests start their own stacks with make_stack and never the module-wide one. Every worker of a
test run joins the same consumer groups, so a worker that another test left running would take the
job that the eviction test expects to stay PENDING."""
import concurrent.futures
import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.parse

import pytest

from conftest import free_port

EXPORT_REQUEST = {"objectType": "contacts", "properties": ["email"], "format": "csv"}

# Rows 3 and 4 are rejected, so the job gets an error list as well as its hash.
CONTACTS = (
    b"Email,First Name\r\n"
    b"ann@example.com,Ann\r\n"
    b"bob.example.com,Bob\r\n"
    b",Carl\r\n"
    b"dora@example.com,Dora\r\n"
)


def redis_cli(url, *arguments):
    address = urllib.parse.urlsplit(url)
    command = ["redis-cli", "-h", address.hostname, "-p", str(address.port), *arguments]
    return subprocess.run(command, check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


def shared_redis_url():
    return os.environ["JOBGATE_TEST_REDIS_URL"]


def path_of(url):
    return urllib.parse.urlsplit(url).path


def wait_for_status(client, path, status, timeout):
    """Polls path until it returns status or timeout seconds pass, and returns the last response."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.request("GET", path)
        if response.status == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def assert_no_sanitizer_report(log):
    assert "ERROR: AddressSanitizer" not in log, log[-6000:]
    assert "ERROR: LeakSanitizer" not in log, log[-6000:]


@contextlib.contextmanager
def evicting_policy(url):
    """Sets maxmemory-policy allkeys-lru on the shared test Redis and restores noeviction."""
    redis_cli(url, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    try:
        yield
    finally:
        redis_cli(url, "CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_evicting_redis_blocks_readiness_and_workers(make_stack):
    url = shared_redis_url()
    assert redis_cli(url, "CONFIG", "GET", "maxmemory-policy").splitlines() == [
        "maxmemory-policy", "noeviction"]

    with evicting_policy(url):
        stack = make_stack(worker_count=2)
        client = stack.new_client()

        not_ready = client.request("GET", "/readyz")
        assert not_ready.status == 503, not_ready.body
        assert not_ready.header("Retry-After") == "5"
        problem = not_ready.json()
        assert problem["type"].endswith("/service-unavailable")
        assert "maxmemory-policy is allkeys-lru" in problem["detail"]
        assert "Set maxmemory-policy noeviction" in problem["detail"]

        # The gateway still accepts jobs, but no worker may start one while Redis may evict it.
        submitted = client.post_json("/v1/exports", EXPORT_REQUEST)
        assert submitted.status == 202, submitted.body
        location = path_of(submitted.header("Location"))
        time.sleep(3)
        assert client.get(location).json()["status"] == "PENDING"
        assert stack.workers[0].poll() is None
        assert "maxmemory-policy is allkeys-lru" in stack.log("worker0.log")
        assert "worker started" not in stack.log("worker0.log")
        assert "maxmemory-policy is allkeys-lru" in stack.log("gateway.log")

        # A worker that waits for Redis stops at once on SIGTERM.
        stack.workers[1].send_signal(signal.SIGTERM)
        assert stack.workers[1].wait(timeout=3) == 0
        assert "worker stopped before consuming" in stack.log("worker1.log")

    # The gateway reads the policy again within 5 s, and the worker checks every 5 s.
    ready = wait_for_status(client, "/readyz", 200, timeout=15)
    assert ready.status == 200, ready.body
    job = client.wait(location, timeout=60)
    assert job["status"] == "DONE", job
    assert "Redis maxmemory-policy is noeviction again" in stack.log("gateway.log")
    assert "worker started" in stack.log("worker0.log")


def job_keys(url, job_id):
    return sorted(redis_cli(url, "--scan", "--pattern", f"*{job_id}*").split())


def test_finished_job_keys_keep_ttl(make_stack):
    url = shared_redis_url()
    stack = make_stack(worker_count=1)
    client = stack.new_client()

    submitted = client.submit_import(CONTACTS, {"objectType": "contacts"})
    assert submitted.status == 202, submitted.body
    imported = client.wait(path_of(submitted.header("Location")), timeout=60)
    assert imported["status"] == "DONE", imported
    exported_response = client.post_json("/v1/exports", EXPORT_REQUEST)
    assert exported_response.status == 202, exported_response.body
    exported = client.wait(path_of(exported_response.header("Location")), timeout=60)
    assert exported["status"] == "DONE", exported

    # Every API path that reads or writes a finished job.
    for job, kind in ((imported, "imports"), (exported, "exports")):
        job_id = job["id"]
        for path in (f"/v1/{kind}/{job_id}", f"/v1/jobs/{job_id}", f"/v1/{kind}/{job_id}/result",
                     f"/v1/jobs?limit=100", f"/v1/{kind}?limit=100"):
            assert client.get(path).status == 200, path
        assert client.request("POST", f"/v1/{kind}/{job_id}/cancel").status == 409
        assert client.request("POST", f"/v1/jobs/{job_id}/cancel").status == 409
        with contextlib.suppress(OSError):
            client.request("GET", f"/v1/jobs/{job_id}/events", timeout=3)
    errors = client.get(f"/v1/imports/{imported['id']}/errors")
    assert errors.status == 200, errors.body
    assert errors.json()["total"] == 2
    assert client.get(f"/v1/imports/{imported['id']}/errors?format=csv").status == 200
    result = client.get(f"/v1/exports/{exported['id']}/result").json()
    assert client.get(result["url"], authenticate=False).status == 200

    for job_id in (imported["id"], exported["id"]):
        keys = job_keys(url, job_id)
        assert f"jg:job:{job_id}" in keys
        assert f"jg:gone:{job_id}" in keys
        for key in keys:
            ttl = int(redis_cli(url, "PTTL", key))
            assert ttl > 0, f"{key} has PTTL {ttl}"
    assert f"jg:job:{imported['id']}:errors" in job_keys(url, imported["id"])


def reset_connection(connection):
    """Closes with SO_LINGER 0, so the peer gets a TCP RST instead of a FIN."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def test_disconnect_while_redis_reply_pending(make_stack):
    url = shared_redis_url()
    stack = make_stack(worker_count=0)
    client = stack.new_client()
    submitted = client.post_json("/v1/exports", EXPORT_REQUEST)
    assert submitted.status == 202, submitted.body
    job_path = path_of(submitted.header("Location"))
    paths = [job_path, "/v1/jobs?limit=5"]

    redis_cli(url, "CLIENT", "PAUSE", "3000", "ALL")
    connections = []
    timed = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        # A request that stays connected shows how long the gateway waited for Redis.
        def timed_request():
            started = time.monotonic()
            response = client.request("GET", job_path)
            return response, time.monotonic() - started

        waiting = timed.submit(timed_request)
        for index in range(200):
            connection = socket.create_connection(("127.0.0.1", stack.port), timeout=5)
            request = (f"GET {paths[index % 2]} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {stack.api_key}\r\n\r\n")
            connection.sendall(request.encode())
            connections.append(connection)
        # Half reset while the gateway waits for Redis, half around its 2 s command timeout.
        time.sleep(0.3)
        for connection in connections[:100]:
            reset_connection(connection)
        time.sleep(1.7)
        for connection in connections[100:]:
            reset_connection(connection)
        waited_response, waited = waiting.result(timeout=10)
    finally:
        for connection in connections:
            connection.close()
        redis_cli(url, "CLIENT", "UNPAUSE")
        timed.shutdown()

    assert waited > 1.5, (waited, waited_response.status)
    assert stack.gateway.poll() is None, stack.log("gateway.log")[-6000:]
    job = wait_for_status(client, job_path, 200, timeout=10)
    assert job.status == 200, job.body
    assert client.get("/v1/jobs?limit=5").status == 200
    assert client.request("GET", "/healthz").status == 200
    assert stack.gateway.poll() is None
    # No worker ran, so the job is still PENDING. Once canceled, a later test's worker skips it.
    assert client.request("POST", job_path + "/cancel").status == 202

    stack.stop()
    log = stack.log("gateway.log")
    assert stack.gateway.returncode == 0, log[-6000:]
    assert_no_sanitizer_report(log)


def test_hand_edit_in_redis_ends_long_poll(make_stack):
    url = shared_redis_url()
    stack = make_stack(worker_count=0)
    client = stack.new_client()
    polls = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def long_poll_during(job_path, *command):
        """Sends the Redis command while a 20 s long poll of the job waits, and returns the poll's
        response and how long it took."""
        def timed_poll():
            started = time.monotonic()
            response = client.get(job_path + "?wait=20")
            return response, time.monotonic() - started

        waiting = polls.submit(timed_poll)
        time.sleep(1)
        redis_cli(url, *command)
        return waiting.result(timeout=30)

    try:
        # No worker runs, so each job stays PENDING until the edit.
        submitted = client.post_json("/v1/exports", EXPORT_REQUEST)
        assert submitted.status == 202, submitted.body
        job_id = submitted.json()["id"]
        polled, waited = long_poll_during(f"/v1/jobs/{job_id}", "HSET", f"jg:job:{job_id}",
                                          "status", "CANCELED")
        assert polled.status == 200, polled.body
        assert polled.json()["status"] == "CANCELED"
        assert waited < 10

        submitted = client.post_json("/v1/exports", EXPORT_REQUEST)
        assert submitted.status == 202, submitted.body
        job_id = submitted.json()["id"]
        polled, waited = long_poll_during(f"/v1/jobs/{job_id}", "DEL", f"jg:job:{job_id}")
        assert polled.status == 404, polled.body
        assert polled.json()["type"].endswith("/job-not-found")
        assert polled.json()["jobId"] == job_id
        assert waited < 10
    finally:
        polls.shutdown()


class PrivateRedis:
    """A redis-server of this test's own on a free port, with an append-only file in directory."""

    def __init__(self, directory, *settings):
        self.directory = directory
        self.settings = list(settings)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        # appendfsync always writes each job to disk before the reply, so kill -9 loses none.
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
             str(self.directory), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--maxmemory-policy", "noeviction", "--daemonize", "no", "--protected-mode", "yes",
             *self.settings],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                if redis_cli(self.url, "PING") == "PONG":
                    return
            assert self.process.poll() is None, (self.directory / "redis.log").read_text()
            time.sleep(0.1)
        raise AssertionError("private redis-server did not answer PING within 10 s")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def test_gateway_and_workers_survive_redis_restart(make_stack, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        stack = make_stack({"JOBGATE_REDIS_URL": redis.url}, worker_count=1)
        client = stack.new_client()
        assert wait_for_status(client, "/readyz", 200, timeout=15).status == 200

        # The worker is stopped, so the job is still PENDING when Redis dies.
        worker = stack.workers[0]
        worker.send_signal(signal.SIGSTOP)
        try:
            submitted = client.post_json("/v1/exports", EXPORT_REQUEST)
            assert submitted.status == 202, submitted.body
            job_path = path_of(submitted.header("Location"))
            redis.kill()
        finally:
            worker.send_signal(signal.SIGCONT)

        # Every request fails fast with 503 and Retry-After while Redis is down.
        for method, path in (("GET", job_path), ("GET", "/v1/jobs"), ("GET", "/readyz"),
                             ("POST", "/v1/exports"), ("GET", job_path)):
            started = time.monotonic()
            if method == "POST":
                response = client.post_json(path, EXPORT_REQUEST)
            else:
                response = client.request(method, path)
            elapsed = time.monotonic() - started
            assert response.status == 503, (path, response.status, response.body)
            assert response.header("Retry-After"), path
            assert elapsed < 2, (path, elapsed)
        time.sleep(2)

        redis.start()
        assert wait_for_status(client, "/readyz", 200, timeout=20).status == 200
        job = client.wait(job_path, timeout=90)
        assert job["status"] == "DONE", job
        assert stack.gateway.poll() is None
        assert worker.poll() is None, stack.log("worker0.log")[-6000:]

        # A second job shows that the worker consumes again, not only that it finished the first.
        again = client.post_json("/v1/exports", EXPORT_REQUEST)
        assert again.status == 202, again.body
        assert client.wait(path_of(again.header("Location")), timeout=60)["status"] == "DONE"
        stack.stop()
        assert_no_sanitizer_report(stack.log("gateway.log"))
        assert_no_sanitizer_report(stack.log("worker0.log"))
    finally:
        redis.kill()


@pytest.mark.parametrize("settings, expected", [
    (("--rename-command", "CONFIG", "", "--maxmemory-policy", "allkeys-lru"),
     "maxmemory-policy is allkeys-lru"),
    (("--rename-command", "CONFIG", "", "--rename-command", "INFO", ""),
     "rejected both CONFIG GET maxmemory-policy and INFO memory"),
], ids=["info-fallback", "both-rejected"])
def test_policy_check_without_config_command(make_stack, tmp_path, settings, expected):
    redis = PrivateRedis(tmp_path, *settings)
    redis.start()
    try:
        stack = make_stack({"JOBGATE_REDIS_URL": redis.url}, worker_count=1)
        client = stack.new_client()

        not_ready = client.request("GET", "/readyz")
        assert not_ready.status == 503, not_ready.body
        assert expected in not_ready.json()["detail"]
        time.sleep(1)
        assert expected in stack.log("worker0.log")
        assert "worker started" not in stack.log("worker0.log")
        assert stack.workers[0].poll() is None
    finally:
        redis.kill()


def test_policy_read_from_info_when_noeviction(make_stack, tmp_path):
    redis = PrivateRedis(tmp_path, "--rename-command", "CONFIG", "")
    redis.start()
    try:
        stack = make_stack({"JOBGATE_REDIS_URL": redis.url}, worker_count=1)
        client = stack.new_client()
        ready = wait_for_status(client, "/readyz", 200, timeout=15)
        assert ready.status == 200, ready.body
        deadline = time.monotonic() + 10
        while "worker started" not in stack.log("worker0.log"):
            assert time.monotonic() < deadline, stack.log("worker0.log")[-4000:]
            time.sleep(0.2)
    finally:
        redis.kill()
