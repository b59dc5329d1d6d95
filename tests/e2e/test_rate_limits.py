"""Request rate limits per API key, enforced by two gateway processes that share one Redis and
Kafka: a burst of submissions split across both, the 429 problem with Retry-After, and the
RateLimit fields counting down on consecutive responses."""
import concurrent.futures
import math
import re
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, free_port
from jobgate_client import Client
from test_redis_hygiene import PrivateRedis

SUBMIT_RATE = 10
SUBMIT_BURST = 10
READ_RATE = 1
READ_BURST = 10
RATE_LIMITED_TYPE = "https://jobgate.dev/problems/rate-limited"
EXPORT_REQUEST = {"name": "rate limited", "objectType": "contacts", "properties": ["email"],
                  "format": "csv"}
STATE_FIELD = re.compile(r'^"(submit|read)";r=(\d+);t=(\d+)$')


def limited_settings():
    return {"JOBGATE_SUBMIT_RATE_LIMIT": SUBMIT_RATE, "JOBGATE_SUBMIT_BURST": SUBMIT_BURST,
            "JOBGATE_READ_RATE_LIMIT": READ_RATE, "JOBGATE_READ_BURST": READ_BURST}


def start_second_gateway(stack):
    """Starts another gateway with the stack's settings on its own port, as a second replica."""
    port = free_port()
    env = dict(stack.env, JOBGATE_HTTP_PORT=str(port))
    log = open(stack.workdir / "gateway2.log", "ab")
    process = subprocess.Popen([str(BUILD / "bin" / "jobgate-gateway"), *stack.gateway_arguments],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    client = Client(f"http://127.0.0.1:{port}", stack.api_key)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.request("GET", "/healthz").status == 200:
                return process, client
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("second gateway did not start:\n" + stack.log("gateway2.log")[-4000:])


@pytest.fixture
def replicas(make_stack):
    """Two gateways of one stack with low limits, and a client of the same API key for each."""
    stack = make_stack(limited_settings(), worker_count=1)
    process, second = start_second_gateway(stack)
    yield stack, [stack.client, second]
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def state(response):
    """The (policy, remaining, seconds) of a response's RateLimit field."""
    match = STATE_FIELD.match(response.header("RateLimit") or "")
    assert match, f"RateLimit field {response.header('RateLimit')!r}"
    return match.group(1), int(match.group(2)), int(match.group(3))


def test_burst_across_two_gateways(replicas):
    stack, clients = replicas

    def submit(index):
        return clients[index % 2].post_json("/v1/exports", EXPORT_REQUEST)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(submit, range(100)))
    elapsed = time.monotonic() - started

    accepted = [response for response in responses if response.status == 202]
    rejected = [response for response in responses if response.status != 202]
    print(f"accepted {len(accepted)} of 100 in {elapsed:.2f} s")
    # GCRA admits the burst plus one request per interval over the time the burst took, which
    # is within one bucket of the limit.
    assert len(accepted) >= SUBMIT_BURST
    assert len(accepted) <= SUBMIT_BURST + math.ceil(SUBMIT_RATE * elapsed) + 1

    for response in accepted:
        assert response.header("RateLimit-Policy") == '"submit";q=10;w=1'
        assert state(response)[0] == "submit"
    for response in rejected:
        assert response.status == 429, response.body
        assert response.header("Content-Type") == "application/problem+json"
        retry_after = response.header("Retry-After")
        assert retry_after is not None and retry_after.isdigit(), retry_after
        assert int(retry_after) >= 1
        assert response.header("RateLimit-Policy") == '"submit";q=10;w=1'
        policy, remaining, seconds = state(response)
        assert (policy, remaining) == ("submit", 0)
        assert seconds == int(retry_after)
        problem = response.json()
        assert problem["type"] == RATE_LIMITED_TYPE
        assert problem["status"] == 429
        assert problem["limit"] == "submit"
        assert problem["ratePerSecond"] == str(SUBMIT_RATE)
        assert problem["burst"] == str(SUBMIT_BURST)
        assert problem["instance"] == "/v1/exports"

    # Each gateway counts its own rejections, and together they counted every one.
    counted = f'jobgate_rate_limited_requests_total{{tenant="{stack.tenant}",limit="submit"}} '
    total = 0
    for client in clients:
        metrics = client.request("GET", "/metrics", authenticate=False).body.decode()
        line = next(line for line in metrics.splitlines() if line.startswith(counted))
        total += int(float(line[len(counted):]))
    assert total == len(rejected)


def test_remaining_counts_down(replicas):
    _, clients = replicas

    # Reads refill one per second, so ten quick reads see every value from 9 down to 0.
    started = time.monotonic()
    reads = [clients[index % 2].get("/v1/jobs") for index in range(READ_BURST)]
    elapsed = time.monotonic() - started
    assert [response.status for response in reads] == [200] * READ_BURST
    for response in reads:
        assert response.header("RateLimit-Policy") == '"read";q=10;w=10'
    remaining = [state(response)[1] for response in reads]
    if elapsed < 1 / READ_RATE:
        assert remaining == list(range(READ_BURST - 1, -1, -1))
    # The last read took the last request, so its t is the wait for the next one.
    assert state(reads[-1])[2] == 1
    rejected = clients[0].get("/v1/jobs")
    if time.monotonic() - started < 1 / READ_RATE:
        assert rejected.status == 429
        assert rejected.header("Retry-After") == "1"
        assert state(rejected) == ("read", 0, 1)

    # The submit bucket is separate and still full. It refills every 100 ms, so each remaining
    # value is the previous one minus one, plus what refilled in between.
    previous = None
    for index in range(6):
        sent = time.monotonic()
        response = clients[index % 2].post_json("/v1/exports", EXPORT_REQUEST)
        assert response.status == 202, response.body
        remaining = state(response)[1]
        if previous is None:
            assert remaining == SUBMIT_BURST - 1
        else:
            previous_remaining, previous_sent = previous
            refilled = math.ceil((time.monotonic() - previous_sent) * SUBMIT_RATE)
            assert previous_remaining - 1 <= remaining <= previous_remaining - 1 + refilled
        previous = (remaining, sent)


def test_redis_down_fails_closed(make_stack, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        stack = make_stack(dict(limited_settings(), JOBGATE_REDIS_URL=redis.url), worker_count=0)
        client = stack.client
        assert state(client.get("/v1/jobs")) == ("read", READ_BURST - 1, 0)

        # Without Redis a limited request gets 503, not an unlimited pass.
        redis.kill()
        started = time.monotonic()
        down = client.get("/v1/jobs")
        assert time.monotonic() - started < 2
        assert down.status == 503, down.body
        assert down.json()["type"] == "https://jobgate.dev/problems/service-unavailable"
        assert down.header("Retry-After") == "2"
        assert down.header("RateLimit") is None

        redis.start()
        deadline = time.monotonic() + 20
        while client.get("/v1/jobs").status != 200:
            assert time.monotonic() < deadline, "no 200 within 20 s after Redis came back"
            time.sleep(0.2)
        assert state(client.get("/v1/jobs"))[0] == "read"
    finally:
        redis.kill()
