"""Webhook delivery on the real stack: a receiver on loopback checks every delivery with the
standardwebhooks package from PyPI, an implementation of the Standard Webhooks specification that
jobgate does not share code with."""
import datetime
import http.server
import json
import pathlib
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import jsonschema
import pytest

from conftest import ROOT, Stack
from test_import_export import generate

STANDARD_WEBHOOKS_VERSION = "1.3.0"
# Longer than the worker's response timeout in the hooks fixture.
HANG_SECONDS = 20
PACKAGE_DIR = ROOT / ".cache" / f"standardwebhooks-{STANDARD_WEBHOOKS_VERSION}"
PAYLOAD_SCHEMA = json.loads((ROOT / "proto" / "schemas" / "webhook-payload.schema.json")
                            .read_text())


def standard_webhooks():
    """Imports the pinned standardwebhooks package, installing it into PACKAGE_DIR when missing."""
    if not (PACKAGE_DIR / "standardwebhooks").is_dir():
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                               "--target", str(PACKAGE_DIR),
                               f"standardwebhooks=={STANDARD_WEBHOOKS_VERSION}"],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"installing standardwebhooks {STANDARD_WEBHOOKS_VERSION} failed; check "
                        "access to PyPI:\n" + (done.stdout + done.stderr)[-2000:])
    if str(PACKAGE_DIR) not in sys.path:
        sys.path.insert(0, str(PACKAGE_DIR))
    from standardwebhooks import webhooks
    return webhooks


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and responds on each path with the
    statuses planned for it, one per request, then 200."""

    def __init__(self, context=None):
        self.requests = []
        self.plans = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({
                        "path": self.path, "headers": {k.lower(): v for k, v in
                                                       self.headers.items()},
                        "body": body, "received": time.time()})
                    plan = receiver.plans.get(self.path, [])
                    status = plan.pop(0) if plan else 200
                if status == "hang":
                    # A target that does not respond within the worker's response timeout.
                    time.sleep(HANG_SECONDS)
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *arguments):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Hanging handlers must not hold up the end of the test module.
        self.server.daemon_threads = True
        self.server.block_on_close = False
        if context:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def plan(self, path, statuses):
        with self.lock:
            self.plans[path] = list(statuses)

    def received(self, path, job_id=None, event_type=None):
        with self.lock:
            found = [r for r in self.requests if r["path"] == path]
        if job_id:
            found = [r for r in found if json.loads(r["body"])["data"]["jobId"] == job_id]
        if event_type:
            found = [r for r in found if json.loads(r["body"])["type"] == event_type]
        return found

    def wait(self, path, count, job_id=None, event_type=None, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(path, job_id, event_type)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{path} received {len(self.received(path, job_id, event_type))} "
                             f"of {count} requests in {timeout} s")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1, as (certificate, key) paths."""
    certificate, key = directory / "receiver.pem", directory / "receiver.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


@pytest.fixture(scope="module")
def tls():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="jobgate-webhook-tls-"))
    yield make_certificate(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def hooks(tls):
    """A stack with one job worker and one webhook worker whose retries come after 1 s and 2 s."""
    workdir = tempfile.mkdtemp(prefix="jobgate-e2e-")
    running = Stack(workdir, {"JOBGATE_WEBHOOK_ALLOW_ADDRESSES": "loopback",
                              "JOBGATE_WEBHOOK_ALLOW_HTTP": "true",
                              "JOBGATE_WEBHOOK_RETRY_SCHEDULE": "1s,2s",
                              "JOBGATE_WEBHOOK_RESPONSE_TIMEOUT": "10000",
                              "JOBGATE_WEBHOOK_CA_FILE": str(tls[0])}, worker_count=1).start()
    running.env["JOBGATE_PUBLIC_URL"] = running.url
    running.workers.append(running._spawn("jobgate-worker", ["--kinds", "webhooks"],
                                          "webhooks.log"))
    receiver = Receiver()
    yield running, receiver
    receiver.close()
    running.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def subscribe(client, url, events=("job.completed",), kinds=("exports",)):
    document = {"url": url, "events": list(events)}
    if kinds:
        document["kinds"] = list(kinds)
    response = client.post_json("/v1/webhooks", document)
    assert response.status == 201, response.body
    return response.json()


def run_export(client, document=None):
    response = client.post_json("/v1/exports", document or {"objectType": "contacts",
                                                            "properties": ["email"]})
    assert response.status == 202, response.body
    job = response.json()
    client.wait(f"/v1/exports/{job['id']}")
    return job["id"]


def deliveries(client, subscription_id):
    response = client.get(f"/v1/webhooks/{subscription_id}/deliveries")
    assert response.status == 200, response.body
    return response.json()["data"]


def wait_for_delivery(client, subscription_id, job_id, status, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for delivery in deliveries(client, subscription_id):
            if delivery["jobId"] == job_id and delivery["status"] == status:
                return delivery
        time.sleep(0.2)
    raise AssertionError(f"no {status} delivery for {job_id}: "
                         f"{deliveries(client, subscription_id)}")


def test_deliveries_verify_with_standard_webhooks(hooks):
    stack, receiver = hooks
    library = standard_webhooks()
    client = stack.new_client()
    subscription = subscribe(client, receiver.url("/verify"),
                             events=("job.status_changed", "job.completed"))
    job_id = run_export(client)

    completed = receiver.wait("/verify", 1, job_id, "job.completed")[0]
    processing = receiver.wait("/verify", 1, job_id, "job.status_changed")[0]
    webhook = library.Webhook(subscription["secret"])
    for request in (completed, processing):
        payload = webhook.verify(request["body"], request["headers"])
        jsonschema.validate(payload, PAYLOAD_SCHEMA)
        assert request["headers"]["webhook-id"] == payload["data"]["eventId"]
        assert request["headers"]["content-type"] == "application/json"
        assert abs(int(request["headers"]["webhook-timestamp"]) - time.time()) < 60

    done = json.loads(completed["body"])
    assert done["data"]["jobId"] == job_id
    assert done["data"]["status"] == "DONE"
    assert done["data"]["links"]["self"] == f"{stack.url}/v1/exports/{job_id}"
    assert done["data"]["links"]["result"] == f"{stack.url}/v1/exports/{job_id}/result"
    assert json.loads(processing["body"])["data"]["sequence"] < done["data"]["sequence"]


def test_verification_rejects_tampering(hooks):
    stack, receiver = hooks
    library = standard_webhooks()
    client = stack.new_client()
    subscription = subscribe(client, receiver.url("/tamper"))
    job_id = run_export(client)
    request = receiver.wait("/tamper", 1, job_id)[0]
    webhook = library.Webhook(subscription["secret"])
    webhook.verify(request["body"], request["headers"])

    with pytest.raises(library.WebhookVerificationError):
        webhook.verify(request["body"].replace(b"DONE", b"FAIL"), request["headers"])
    with pytest.raises(library.WebhookVerificationError):
        library.Webhook("whsec_" + "QUFB" * 8).verify(request["body"], request["headers"])
    # A replay ten minutes later fails the receiver's five-minute tolerance even when signed.
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    replayed = dict(request["headers"])
    replayed["webhook-timestamp"] = str(int(old.timestamp()))
    replayed["webhook-signature"] = webhook.sign(replayed["webhook-id"], old, request["body"])
    with pytest.raises(library.WebhookVerificationError):
        webhook.verify(request["body"], replayed)


def test_retries_resend_the_same_event(hooks):
    stack, receiver = hooks
    library = standard_webhooks()
    client = stack.new_client()
    receiver.plan("/flaky", [500, 503])
    subscription = subscribe(client, receiver.url("/flaky"))
    job_id = run_export(client)

    attempts = receiver.wait("/flaky", 3, job_id)
    webhook = library.Webhook(subscription["secret"])
    for attempt in attempts:
        webhook.verify(attempt["body"], attempt["headers"])
    assert len({a["headers"]["webhook-id"] for a in attempts}) == 1
    assert len({a["body"] for a in attempts}) == 1
    # Each attempt is signed afresh: the schedule's 1 s and 2 s show in the timestamps.
    stamps = [int(a["headers"]["webhook-timestamp"]) for a in attempts]
    assert stamps == sorted(stamps)
    assert stamps[2] - stamps[0] >= 2
    assert attempts[1]["received"] - attempts[0]["received"] < 10

    delivery = wait_for_delivery(client, subscription["id"], job_id, "succeeded")
    assert delivery["attempts"] == 3
    assert [entry.get("statusCode") for entry in delivery["attemptLog"]] == [500, 503, 200]


def test_gone_disables_the_subscription(hooks):
    stack, receiver = hooks
    client = stack.new_client()
    receiver.plan("/gone", [410])
    subscription = subscribe(client, receiver.url("/gone"))
    job_id = run_export(client)
    delivery = wait_for_delivery(client, subscription["id"], job_id, "failed")
    assert "410" in delivery["failureReason"]

    stored = client.get(f"/v1/webhooks/{subscription['id']}").json()
    assert stored["status"] == "disabled"
    assert "410" in stored["disabledReason"]
    later = run_export(client)
    time.sleep(2)
    assert receiver.received("/gone", later) == []
    assert len(receiver.received("/gone", job_id)) == 1


def test_failed_delivery_can_be_sent_again(hooks):
    stack, receiver = hooks
    client = stack.new_client()
    receiver.plan("/down", [500, 500, 500])
    subscription = subscribe(client, receiver.url("/down"))
    job_id = run_export(client)
    delivery = wait_for_delivery(client, subscription["id"], job_id, "failed")
    assert delivery["attempts"] == 3
    assert "attempt 3" in delivery["failureReason"]

    response = client.request(
        "POST", f"/v1/webhooks/{subscription['id']}/deliveries/{delivery['id']}/redeliver")
    assert response.status == 202, response.body
    redelivered = wait_for_delivery(client, subscription["id"], job_id, "succeeded")
    assert redelivered["attempts"] == 4
    requests = receiver.received("/down", job_id)
    assert len(requests) == 4
    assert len({r["body"] for r in requests}) == 1


def test_rotation_signs_with_both_secrets(hooks):
    stack, receiver = hooks
    library = standard_webhooks()
    client = stack.new_client()
    subscription = subscribe(client, receiver.url("/rotate"))
    response = client.post_json(f"/v1/webhooks/{subscription['id']}/rotate-secret",
                                {"overlapSeconds": 3600})
    assert response.status == 200, response.body
    rotated = response.json()["secret"]
    assert rotated != subscription["secret"]

    first = receiver.wait("/rotate", 1, run_export(client))[0]
    assert len(first["headers"]["webhook-signature"].split(" ")) == 2
    library.Webhook(subscription["secret"]).verify(first["body"], first["headers"])
    library.Webhook(rotated).verify(first["body"], first["headers"])

    response = client.post_json(f"/v1/webhooks/{subscription['id']}/rotate-secret",
                                {"overlapSeconds": 0})
    assert response.status == 200, response.body
    newest = response.json()["secret"]
    second = receiver.wait("/rotate", 1, run_export(client))[0]
    library.Webhook(newest).verify(second["body"], second["headers"])
    with pytest.raises(library.WebhookVerificationError):
        library.Webhook(rotated).verify(second["body"], second["headers"])


def test_callback_url_gets_signed_events(hooks):
    stack, receiver = hooks
    library = standard_webhooks()
    client = stack.new_client()
    response = client.request("POST", "/v1/webhooks/callback-secret")
    assert response.status == 200, response.body
    secret = response.json()["secret"]
    job_id = run_export(client, {"objectType": "contacts", "properties": ["email"],
                                 "callbackUrl": receiver.url("/callback")})

    completed = receiver.wait("/callback", 1, job_id, "job.completed")[0]
    assert library.Webhook(secret).verify(completed["body"], completed["headers"])["data"][
        "status"] == "DONE"
    receiver.wait("/callback", 1, job_id, "job.status_changed")
    logged = deliveries(client, "callbacks")
    assert {d["eventType"] for d in logged if d["jobId"] == job_id} == {
        "job.completed", "job.status_changed"}


def test_https_target_with_trusted_certificate(hooks, tls):
    stack, _ = hooks
    library = standard_webhooks()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls[0]), str(tls[1]))
    secure = Receiver(context)
    try:
        client = stack.new_client()
        subscription = subscribe(client, secure.url("/tls", scheme="https"))
        job_id = run_export(client)
        request = secure.wait("/tls", 1, job_id)[0]
        library.Webhook(subscription["secret"]).verify(request["body"], request["headers"])
    finally:
        secure.close()


def test_untrusted_certificate_is_refused(hooks, tmp_path):
    stack, _ = hooks
    certificate, key = make_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate), str(key))
    untrusted = Receiver(context)
    try:
        client = stack.new_client()
        subscription = subscribe(client, untrusted.url("/tls", scheme="https"))
        job_id = run_export(client)
        delivery = wait_for_delivery(client, subscription["id"], job_id, "failed")
        assert untrusted.received("/tls") == []
        assert all("certificate" in entry["error"] for entry in delivery["attemptLog"])
    finally:
        untrusted.close()


def test_cancel_sends_one_canceled_event(hooks, tmp_path):
    stack, receiver = hooks
    library = standard_webhooks()
    client = stack.new_client()
    subscription = subscribe(client, receiver.url("/cancel"), events=("job.canceled",),
                             kinds=("imports",))
    data, _ = generate(tmp_path, 60000, 11)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    job_id = response.json()["id"]
    time.sleep(0.3)
    response = client.request("POST", f"/v1/imports/{job_id}/cancel")
    assert response.status == 202, response.body

    request = receiver.wait("/cancel", 1, job_id)[0]
    payload = library.Webhook(subscription["secret"]).verify(request["body"], request["headers"])
    assert payload["type"] == "job.canceled"
    assert payload["data"]["status"] == "CANCELED"
    assert payload["data"]["previousStatus"] in ("PENDING", "PROCESSING")
    # The gateway and the worker both emit the event; its fixed id makes one delivery of it.
    time.sleep(3)
    assert len(receiver.received("/cancel", job_id)) == 1


def test_dead_target_does_not_delay_others(hooks):
    stack, receiver = hooks
    client = stack.new_client()
    count = 40
    receiver.plan("/hang", ["hang"] * count * 3)
    stuck = subscribe(client, receiver.url("/hang"))
    subscribe(client, receiver.url("/fast"))
    job_ids = []
    for index in range(count):
        response = client.post_json("/v1/exports", {"objectType": "contacts",
                                                    "properties": ["email"],
                                                    "name": f"isolation {index}"})
        assert response.status == 202, response.body
        job_ids.append(response.json()["id"])
    for job_id in job_ids:
        client.wait(f"/v1/exports/{job_id}")
    finished = time.monotonic()

    # 40 hanging deliveries would fill all 32 delivery slots for 10 s each without a limit per
    # target; with it, the other subscription's deliveries go out at once.
    deadline = finished + 8
    while time.monotonic() < deadline:
        if len(receiver.received("/fast")) >= count:
            break
        time.sleep(0.1)
    assert len(receiver.received("/fast")) == count
    assert len(receiver.received("/hang")) < count
    response = client.request("DELETE", f"/v1/webhooks/{stuck['id']}")
    assert response.status == 204, response.body
