"""W3C trace context: a traceparent sent to the gateway reaches the worker's log lines of the job
and the webhook requests of its events."""
import http.client
import json
import re
import secrets
import time

# The webhook tests' stack: one job worker, one webhook worker and a receiver on loopback.
from test_webhooks import hooks, subscribe, tls  # noqa: F401 (pytest fixtures)

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def log_entries(stack, name, **matching):
    entries = []
    for line in stack.log(name).splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if all(entry.get(key) == value for key, value in matching.items()):
            entries.append(entry)
    return entries


def submit_export(client, headers):
    response = client.request("POST", "/v1/exports",
                              body=json.dumps({"objectType": "contacts",
                                               "properties": ["email"]}).encode(),
                              headers={"Content-Type": "application/json", **headers})
    assert response.status == 202, response.body
    job_id = response.json()["id"]
    job = client.wait(f"/v1/exports/{job_id}")
    assert job["status"] == "DONE"
    return job_id


def wait_for_log(stack, name, timeout=30, **matching):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = log_entries(stack, name, **matching)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {matching} line in {name}:\n" + stack.log(name)[-3000:])


def test_trace_id_reaches_worker_logs(hooks):
    stack, _ = hooks
    client = stack.new_client()
    trace_id = secrets.token_hex(16)
    job_id = submit_export(client, {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})

    accepted = wait_for_log(stack, "gateway.log", msg="job accepted", job_id=job_id)
    assert accepted[0]["trace_id"] == trace_id
    # The access log line of the submission has the same trace id, and numbers as JSON numbers.
    request = wait_for_log(stack, "gateway.log", msg="request", trace_id=trace_id)
    assert request[0]["status"] == 202
    assert isinstance(request[0]["duration_us"], int)
    wait_for_log(stack, "worker0.log", msg="job done", job_id=job_id)
    lines = log_entries(stack, "worker0.log", job_id=job_id)
    assert {"job started", "job done"} <= {line["msg"] for line in lines}
    for line in lines:
        assert line.get("trace_id") == trace_id, line


def test_missing_traceparent_starts_a_trace(hooks):
    stack, _ = hooks
    client = stack.new_client()
    job_id = submit_export(client, {})

    accepted = wait_for_log(stack, "gateway.log", msg="job accepted", job_id=job_id)
    trace_id = accepted[0]["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    started = wait_for_log(stack, "worker0.log", msg="job started", job_id=job_id)
    assert started[0]["trace_id"] == trace_id


def test_invalid_traceparent_is_replaced(hooks):
    stack, _ = hooks
    client = stack.new_client()
    sent = "00-" + "AB" * 16 + "-" + secrets.token_hex(8) + "-01"
    job_id = submit_export(client, {"traceparent": sent})

    accepted = wait_for_log(stack, "gateway.log", msg="job accepted", job_id=job_id)
    assert accepted[0]["trace_id"] != "ab" * 16
    assert re.fullmatch(r"[0-9a-f]{32}", accepted[0]["trace_id"])


def test_webhook_requests_carry_the_trace(hooks):
    stack, receiver = hooks
    client = stack.new_client()
    subscribe(client, receiver.url("/traced"), events=("job.status_changed", "job.completed"))
    trace_id = secrets.token_hex(16)
    sent_parent = secrets.token_hex(8)
    job_id = submit_export(client, {"traceparent": f"00-{trace_id}-{sent_parent}-01"})

    completed = receiver.wait("/traced", 1, job_id, "job.completed")[0]
    processing = receiver.wait("/traced", 1, job_id, "job.status_changed")[0]
    parents = set()
    for request in (completed, processing):
        match = TRACEPARENT.match(request["headers"].get("traceparent", ""))
        assert match, request["headers"]
        assert match.group(1) == trace_id
        assert match.group(3) == "01"
        parents.add(match.group(2))
    # Every hop is a span of its own: the gateway, the worker and each webhook attempt.
    assert sent_parent not in parents
    assert len(parents) == 2


def test_repeated_traceparent_is_replaced(hooks):
    stack, _ = hooks
    client = stack.new_client()
    sent = secrets.token_hex(16)
    body = json.dumps({"objectType": "contacts", "properties": ["email"]}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    connection.putrequest("POST", "/v1/exports")
    connection.putheader("Authorization", f"Bearer {client.api_key}")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    connection.putheader("traceparent", f"00-{sent}-{secrets.token_hex(8)}-01")
    connection.putheader("traceparent", f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01")
    connection.endheaders(body)
    response = connection.getresponse()
    assert response.status == 202
    job_id = json.loads(response.read())["id"]
    connection.close()

    accepted = wait_for_log(stack, "gateway.log", msg="job accepted", job_id=job_id)
    assert accepted[0]["trace_id"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", accepted[0]["trace_id"])
