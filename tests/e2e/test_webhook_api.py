"""Webhook subscriptions, secrets, delivery logs and job callbackUrls over HTTP against a real
gateway: the module stack accepts loopback and http targets, and a second gateway without those
settings shows the default refusals."""
import json
import re
import time

import pytest

PROBLEM_BASE = "https://jobgate.dev/problems/"
TARGET = "http://127.0.0.1:9/hooks/jobgate"


def patch_json(client, path, document):
    return client.request("PATCH", path, body=json.dumps(document).encode(),
                          headers={"Content-Type": "application/json"})


def create(client, **members):
    document = {"url": TARGET, "events": ["job.completed"], **members}
    return client.post_json("/v1/webhooks", document)


def check_problem(response, status, slug):
    assert response.status == status, response.body
    assert response.header("Content-Type") == "application/problem+json"
    document = response.json()
    assert document["type"] == PROBLEM_BASE + slug, document
    return document


def test_create_returns_secret_once(fresh):
    client = fresh.client
    created = create(client, kinds=["exports"], description="CRM sync")
    assert created.status == 201, created.body
    body = created.json()
    assert re.fullmatch(r"whk_[0-9a-f]{24}", body["id"])
    assert body["secret"].startswith("whsec_")
    assert body["status"] == "enabled"
    assert body["kinds"] == ["exports"]
    assert body["description"] == "CRM sync"
    assert created.header("Location").endswith("/v1/webhooks/" + body["id"])
    assert body["links"]["self"] == created.header("Location")

    read = client.get(f"/v1/webhooks/{body['id']}")
    assert read.status == 200, read.body
    shown = read.json()
    assert "secret" not in shown
    assert shown["url"] == TARGET
    assert shown["events"] == ["job.completed"]
    assert shown["createdAt"] == body["createdAt"]


def test_list_is_oldest_first(fresh):
    client = fresh.client
    # Order is by creation time in milliseconds, so the creations are apart by more than one.
    ids = []
    for _ in range(3):
        ids.append(create(client).json()["id"])
        time.sleep(0.005)
    listed = client.get("/v1/webhooks")
    assert listed.status == 200, listed.body
    data = listed.json()["data"]
    assert [item["id"] for item in data] == ids
    assert all("secret" not in item for item in data)
    assert all("kinds" not in item for item in data)


def test_patch_changes_and_reenables(fresh):
    client = fresh.client
    webhook = create(client, kinds=["imports"]).json()
    path = f"/v1/webhooks/{webhook['id']}"

    changed = patch_json(client, path, {"events": ["job.failed", "job.canceled"], "kinds": None,
                                        "description": "second", "status": "disabled"})
    assert changed.status == 200, changed.body
    body = changed.json()
    assert body["events"] == ["job.failed", "job.canceled"]
    assert "kinds" not in body
    assert body["description"] == "second"
    assert body["status"] == "disabled"
    assert body["disabledReason"]
    assert body["disabledAt"]

    enabled = patch_json(client, path, {"status": "enabled", "kinds": []})
    assert enabled.status == 200, enabled.body
    body = enabled.json()
    assert body["status"] == "enabled"
    assert "disabledReason" not in body
    assert "disabledAt" not in body
    assert "failingSince" not in body


def test_patch_checks_url(fresh):
    client = fresh.client
    webhook = create(client).json()
    refused = patch_json(client, f"/v1/webhooks/{webhook['id']}", {"url": "http://10.0.0.1/x"})
    check_problem(refused, 422, "webhook-target-refused")
    invalid = patch_json(client, f"/v1/webhooks/{webhook['id']}", {"status": "paused"})
    check_problem(invalid, 400, "invalid-request")
    assert client.get(f"/v1/webhooks/{webhook['id']}").json()["url"] == TARGET


def test_delete_removes_subscription(fresh):
    client = fresh.client
    webhook = create(client).json()
    path = f"/v1/webhooks/{webhook['id']}"
    deleted = client.request("DELETE", path)
    assert deleted.status == 204, deleted.body
    check_problem(client.get(path), 404, "webhook-not-found")
    check_problem(client.request("DELETE", path), 404, "webhook-not-found")
    assert client.get("/v1/webhooks").json()["data"] == []


def test_rotate_secret_keeps_previous(fresh):
    client = fresh.client
    webhook = create(client).json()
    path = f"/v1/webhooks/{webhook['id']}/rotate-secret"

    rotated = client.request("POST", path)
    assert rotated.status == 200, rotated.body
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != webhook["secret"]
    assert body["previousSecretExpiresAt"]
    shown = client.get(f"/v1/webhooks/{webhook['id']}").json()
    assert shown["previousSecretExpiresAt"] == body["previousSecretExpiresAt"]

    immediate = client.post_json(path, {"overlapSeconds": 0})
    assert immediate.status == 200, immediate.body
    assert "previousSecretExpiresAt" not in immediate.json()
    assert "previousSecretExpiresAt" not in client.get(f"/v1/webhooks/{webhook['id']}").json()

    check_problem(client.post_json(path, {"overlapSeconds": 604801}), 400, "invalid-request")
    check_problem(client.post_json(path, {"overlap": 5}), 400, "invalid-request")


@pytest.mark.parametrize("url, slug", [
    ("http://10.0.0.1/hooks", "webhook-target-refused"),
    ("http://169.254.169.254/latest/meta-data", "webhook-target-refused"),
    ("https://[::ffff:192.168.1.1]/hooks", "webhook-target-refused"),
    ("https://hooks.example.invalid/jobgate", "webhook-target-refused"),
    ("ftp://127.0.0.1/hooks", "invalid-webhook-url"),
    ("https://user:secret@127.0.0.1/hooks", "invalid-webhook-url"),
    ("not a url", "invalid-webhook-url"),
])
def test_create_rejects_target(fresh, url, slug):
    document = check_problem(create(fresh.client, url=url), 422, slug)
    assert document["field"] == "/url"
    assert document["detail"]


def test_refusal_names_address(fresh):
    document = check_problem(create(fresh.client, url="http://169.254.169.254/"), 422,
                             "webhook-target-refused")
    assert "169.254.169.254" in document["detail"]


def test_default_policy_refuses_loopback(make_stack):
    strict = make_stack(worker_count=0, gateway_arguments=[])
    client = strict.new_client()
    for url in ["https://[::1]/hooks", "https://127.0.0.1/hooks", "https://localhost/hooks"]:
        document = check_problem(create(client, url=url), 422, "webhook-target-refused")
        assert "loopback" in document["detail"] or "::1" in document["detail"], document
    check_problem(create(client, url="http://203.0.113.7/hooks"), 422, "invalid-webhook-url")


def test_body_schema_is_checked(fresh):
    client = fresh.client
    check_problem(client.post_json("/v1/webhooks", {"url": TARGET, "events": ["job.done"]}),
                  400, "invalid-request")
    check_problem(client.post_json("/v1/webhooks", {"url": TARGET, "events": []}),
                  400, "invalid-request")
    check_problem(create(client, description="x" * 201), 400, "invalid-request")
    check_problem(client.request("POST", "/v1/webhooks", body=b"{",
                                 headers={"Content-Type": "application/json"}),
                  400, "invalid-json")


def test_limit_per_tenant(fresh):
    client = fresh.client
    for _ in range(50):
        assert create(client).status == 201
    check_problem(create(client), 409, "webhook-limit-reached")


def test_tenant_isolation(fresh):
    owner = fresh.client
    webhook = create(owner).json()
    other = fresh.new_client()
    path = f"/v1/webhooks/{webhook['id']}"
    check_problem(other.get(path), 404, "webhook-not-found")
    check_problem(patch_json(other, path, {"description": "taken"}), 404, "webhook-not-found")
    check_problem(other.request("DELETE", path), 404, "webhook-not-found")
    check_problem(other.request("POST", path + "/rotate-secret"), 404, "webhook-not-found")
    check_problem(other.get(path + "/deliveries"), 404, "webhook-not-found")
    assert other.get("/v1/webhooks").json()["data"] == []
    assert owner.get(path).status == 200


def test_deliveries_start_empty(fresh):
    client = fresh.client
    webhook = create(client).json()
    listed = client.get(f"/v1/webhooks/{webhook['id']}/deliveries?limit=5")
    assert listed.status == 200, listed.body
    assert listed.json() == {"data": []}
    callbacks = client.get("/v1/webhooks/callbacks/deliveries")
    assert callbacks.status == 200, callbacks.body
    assert callbacks.json() == {"data": []}
    check_problem(client.get(f"/v1/webhooks/{webhook['id']}/deliveries?limit=0"), 400,
                  "invalid-request")
    check_problem(client.get("/v1/webhooks/callbacks/deliveries?after=nope"), 400,
                  "invalid-request")


def test_redeliver_unknown_delivery(fresh):
    client = fresh.client
    webhook = create(client).json()
    delivery = "whd_" + "0" * 24
    missing = client.request("POST", f"/v1/webhooks/{webhook['id']}/deliveries/{delivery}/redeliver")
    check_problem(missing, 404, "delivery-not-found")
    callback = client.request("POST", f"/v1/webhooks/callbacks/deliveries/{delivery}/redeliver")
    check_problem(callback, 404, "delivery-not-found")
    unknown = client.request("POST", f"/v1/webhooks/whk_{'0' * 24}/deliveries/{delivery}/redeliver")
    check_problem(unknown, 404, "webhook-not-found")


EXPORT = {"objectType": "contacts", "properties": ["email"], "format": "csv"}


def test_callback_needs_secret(fresh):
    client = fresh.client
    missing = client.post_json("/v1/exports", {**EXPORT, "callbackUrl": TARGET})
    document = check_problem(missing, 409, "callback-secret-missing")
    assert "POST /v1/webhooks/callback-secret" in document["detail"]
    upload = client.submit_import(b"email\na@example.com\n",
                                  {"objectType": "contacts", "callbackUrl": TARGET})
    check_problem(upload, 409, "callback-secret-missing")

    secret = client.request("POST", "/v1/webhooks/callback-secret")
    assert secret.status == 200, secret.body
    first = secret.json()
    assert first["secret"].startswith("whsec_")
    assert "previousSecretExpiresAt" not in first
    again = client.post_json("/v1/webhooks/callback-secret", {"overlapSeconds": 60})
    assert again.status == 200, again.body
    assert again.json()["previousSecretExpiresAt"]

    accepted = client.post_json("/v1/exports", {**EXPORT, "callbackUrl": TARGET})
    assert accepted.status == 202, accepted.body
    assert accepted.json()["callbackUrl"] == TARGET
    job = client.get(accepted.header("Location")).json()
    assert job["callbackUrl"] == TARGET
    imported = client.submit_import(b"email\na@example.com\n",
                                    {"objectType": "contacts", "callbackUrl": TARGET})
    assert imported.status == 202, imported.body
    assert imported.json()["callbackUrl"] == TARGET

    plain = client.post_json("/v1/exports", EXPORT)
    assert plain.status == 202, plain.body
    assert "callbackUrl" not in plain.json()


def test_callback_url_checked_as_webhook(fresh):
    client = fresh.client
    assert client.request("POST", "/v1/webhooks/callback-secret").status == 200
    refused = client.post_json("/v1/exports", {**EXPORT, "callbackUrl": "http://10.1.2.3/cb"})
    document = check_problem(refused, 422, "webhook-target-refused")
    assert document["field"] == "/callbackUrl"
    invalid = client.post_json("/v1/exports", {**EXPORT, "callbackUrl": "mailto:ops@example.com"})
    check_problem(invalid, 422, "invalid-webhook-url")


def test_methods_are_checked(fresh):
    client = fresh.client
    response = client.request("PUT", "/v1/webhooks")
    check_problem(response, 405, "method-not-allowed")
    assert response.header("Allow") == "GET, POST"
    check_problem(client.get("/v1/webhooks/callback-secret"), 405, "method-not-allowed")
    check_problem(client.get("/v1/webhooks/whk_nothex"), 404, "webhook-not-found")
