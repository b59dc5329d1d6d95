"""Prometheus metrics of the gateway and the worker after a known sequence of jobs."""
import json
import math
import re
import secrets
import signal
import time
import urllib.parse
import urllib.request

from conftest import redis_cli
from test_import_export import generate

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def parse(text):
    """Returns {(name, labels text): value} for every sample line of a text exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        samples[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return samples


def scrape(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4"
        return parse(response.read().decode())


def worker_metrics_url(stack):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in stack.log("worker0.log").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "metrics listening":
                return f"http://127.0.0.1:{entry['port']}"
        time.sleep(0.1)
    raise AssertionError("the worker logged no metrics port:\n" + stack.log("worker0.log")[-2000:])


def wait_until(url, condition, timeout=30):
    """Scrapes url until condition(samples) is true or the timeout passes, and returns the last
    scrape."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(url)
        if condition(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def wait_for_sample(url, key, value, timeout=30):
    return wait_until(url, lambda samples: samples.get(key) == value, timeout)


def test_counts_after_known_jobs(make_stack, tmp_path):
    stack = make_stack(worker_count=1)
    client = stack.new_client()
    worker_url = worker_metrics_url(stack)

    locations = []
    for index in range(7):
        response = client.submit_import(f"email\r\nm{index}@example.com\r\n".encode(),
                                        {"objectType": "contacts"})
        assert response.status == 202, response.body
        locations.append(response.header("Location"))
    for _ in range(2):
        response = client.submit_import(b"PK\x03\x04" + bytes(200), {"objectType": "contacts"},
                                        "book.xlsx")
        assert response.status == 202, response.body
        locations.append(response.header("Location"))
    statuses = [client.wait(location)["status"] for location in locations]
    assert statuses.count("DONE") == 7
    assert statuses.count("FAILED") == 2

    data, _ = generate(tmp_path, 60000, 5)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    big = response.header("Location")
    client.wait(big, until=("PROCESSING", "DONE", "FAILED", "CANCELED"))
    response = client.request("POST", urllib.parse.urlsplit(big).path + "/cancel")
    assert response.status == 202, response.body

    canceled = ("jobgate_jobs_finished_total", '{kind="imports",status="CANCELED"}')
    worker = wait_for_sample(worker_url, canceled, 1)
    assert worker[canceled] == 1
    assert worker[("jobgate_jobs_finished_total", '{kind="imports",status="DONE"}')] == 7
    assert worker[("jobgate_jobs_finished_total", '{kind="imports",status="FAILED"}')] == 2
    assert worker[("jobgate_jobs_started_total", '{kind="imports"}')] == 10
    assert worker[("jobgate_job_duration_seconds_count", '{kind="imports"}')] == 10
    assert worker[("jobgate_job_queue_wait_seconds_count", '{kind="imports"}')] == 10
    assert worker[("jobgate_worker_slots", '{kind="imports"}')] == 2
    busy = wait_for_sample(worker_url, ("jobgate_worker_busy_slots", '{kind="imports"}'), 0)
    assert busy[("jobgate_worker_busy_slots", '{kind="imports"}')] == 0

    gateway = scrape(stack.url)
    assert gateway[("jobgate_jobs_submitted_total", '{kind="imports"}')] == 10
    assert gateway[("jobgate_http_requests_total",
                    '{route="/v1/imports",method="POST",status="202"}')] == 10
    assert gateway[("jobgate_http_requests_total",
                    '{route="/v1/imports/{id}/cancel",method="POST",status="202"}')] == 1
    assert gateway[("jobgate_http_request_duration_seconds_count",
                    '{route="/v1/imports",method="POST"}')] == 10


def test_worker_health_endpoint(make_stack):
    stack = make_stack(worker_count=1)
    url = worker_metrics_url(stack)
    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


# The local stack and the tests create jobgate.exports with 6 partitions.
EXPORT_PARTITIONS = 6


def keda_replicas(lag, lag_threshold, partitions):
    """Return the replica count that KEDA's Kafka scaler requests: lag over the threshold, rounded
    up, and no more replicas than partitions, since a consumer group gives each partition to one
    member."""
    return min(math.ceil(lag / lag_threshold), partitions)


def submit_exports(client, count):
    for index in range(count):
        response = client.post_json("/v1/exports", {"objectType": "contacts",
                                                    "properties": ["email"],
                                                    "name": f"lag {index}"})
        assert response.status == 202, response.body


def test_queue_depth_drives_replicas(make_stack):
    prefix = "lag-" + secrets.token_hex(4)
    stack = make_stack({"JOBGATE_GROUP_PREFIX": prefix}, worker_count=1)
    client = stack.new_client()
    lag = ("jobgate_kafka_consumer_group_lag", f'{{group="{prefix}.exports",topic="jobgate.exports"}}')

    # The new group first reads every export message the topic holds, then commits up to its end.
    drained = wait_for_sample(stack.url, lag, 0, timeout=120)
    assert drained[lag] == 0
    assert drained[("jobgate_kafka_lag_up", "")] == 1

    # With no worker running, the gateway still reports the queue depth, and the Redis-wide
    # pending gauge grows by the jobs submitted (other tests may have left jobs pending before).
    pending = ("jobgate_jobs_pending", '{kind="exports"}')
    pending_before = drained[pending]
    worker = stack.workers[0]
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    submit_exports(client, 6)
    waiting = wait_for_sample(stack.url, lag, 6)
    assert waiting[lag] == 6
    assert keda_replicas(waiting[lag], 2, EXPORT_PARTITIONS) == 3
    assert waiting[pending] == pending_before + 6
    assert waiting[("jobgate_job_totals_up", "")] == 1

    submit_exports(client, 14)
    waiting = wait_for_sample(stack.url, lag, 20)
    assert waiting[lag] == 20
    assert keda_replicas(waiting[lag], 2, EXPORT_PARTITIONS) == EXPORT_PARTITIONS

    stack.start_worker(0)
    drained = wait_for_sample(stack.url, lag, 0, timeout=120)
    assert drained[lag] == 0
    drained = wait_for_sample(stack.url, pending, pending_before)
    assert drained[pending] == pending_before


def test_rows_remaining_counts_pending_imports(make_stack):
    stack = make_stack(worker_count=1)
    client = stack.new_client()
    rows = ("jobgate_rows_remaining", '{kind="imports"}')
    before = scrape(stack.url)[rows]
    worker = stack.workers[0]
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)

    # The importRequest part comes before the file, so the gateway counts the rows on the way in.
    body = b"email,firstname\r\n" + b"".join(
        f"rows{index}@example.com,\"Row\r\n{index}\"\r\n".encode() for index in range(300))
    response = client.submit_import(body, {"objectType": "contacts"})
    assert response.status == 202, response.body
    location = response.header("Location")
    pending = client.get(location).json()
    assert pending["status"] == "PENDING"
    assert pending["progress"]["rowsTotal"] == 300
    assert scrape(stack.url)[rows] == before + 300

    stack.start_worker(0)
    assert client.wait(location)["status"] == "DONE"
    drained = wait_for_sample(stack.url, rows, before)
    assert drained[rows] == before


def fleet(samples, kind):
    labels = f'{{kind="{kind}"}}'
    return tuple(samples[(name, labels)] for name in
                 ("jobgate_fleet_workers", "jobgate_fleet_slots", "jobgate_fleet_busy_slots"))


def test_fleet_gauges_follow_the_workers(make_stack, tmp_path):
    stack = make_stack({"JOBGATE_SLOTS_REPORT_INTERVAL": "200", "JOBGATE_CONCURRENCY": "3"},
                       worker_count=2)
    client = stack.new_client()
    # Workers that earlier tests killed leave reports that lapse only later, so the test deletes
    # all reports. This stack's workers write theirs again within 200 ms.
    redis_cli("DEL", "jg:worker-slots", "jg:worker-slot-lapses")
    # The stack's workers share their consumer groups with earlier tests, so they may run jobs
    # that those tests left queued. Busy slots are checked only where no worker is left.
    both = wait_until(stack.url, lambda samples: fleet(samples, "imports")[:2] == (2, 6)
                      and fleet(samples, "exports")[:2] == (2, 6))
    assert fleet(both, "imports")[:2] == (2, 6)
    assert fleet(both, "exports")[:2] == (2, 6)

    data, _ = generate(tmp_path, 200000, 5)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    location = response.header("Location")
    client.wait(location, until=("PROCESSING", "DONE", "FAILED", "CANCELED"))
    running = wait_until(stack.url, lambda samples: fleet(samples, "imports")[2] >= 1)
    assert fleet(running, "imports")[:2] == (2, 6)
    assert 1 <= fleet(running, "imports")[2] <= 6
    response = client.request("POST", urllib.parse.urlsplit(location).path + "/cancel")
    assert response.status == 202, response.body

    # A worker that stops removes its report at once, long before it would lapse.
    stack.workers[1].send_signal(signal.SIGTERM)
    stack.workers[1].wait(timeout=30)
    after_stop = scrape(stack.url)
    assert fleet(after_stop, "imports")[:2] == (1, 3)
    assert fleet(after_stop, "exports")[:2] == (1, 3)

    # A worker that hangs stops reporting, and its report lapses after three intervals.
    stack.workers[0].send_signal(signal.SIGSTOP)
    try:
        hung = wait_until(stack.url, lambda samples: fleet(samples, "imports")[0] == 0, timeout=5)
        assert fleet(hung, "imports") == (0, 0, 0)
        assert fleet(hung, "exports") == (0, 0, 0)
    finally:
        stack.workers[0].send_signal(signal.SIGCONT)
    back = wait_until(stack.url, lambda samples: fleet(samples, "imports")[0] == 1)
    assert fleet(back, "imports")[:2] == (1, 3)
