"""Idempotency-Key on job submissions: replays, conflicts and concurrent retries."""
import concurrent.futures
import json
import uuid

from jobgate_client import multipart_body


def post_export(client, key, document):
    return client.request("POST", "/v1/exports", body=json.dumps(document).encode(),
                          headers={"Content-Type": "application/json", "Idempotency-Key": key})


def post_import(client, key, csv_bytes, import_request):
    body, content_type = multipart_body([
        ("importRequest", None, "application/json", json.dumps(import_request).encode()),
        ("files", "contacts.csv", "text/csv", csv_bytes),
    ])
    return client.request("POST", "/v1/imports", body=body,
                          headers={"Content-Type": content_type, "Idempotency-Key": key})


EXPORT = {"objectType": "contacts", "properties": ["email", "firstname"], "format": "csv"}


def job_ids(client):
    return [job["id"] for job in client.get("/v1/jobs?limit=100").json()["results"]]


def test_retry_replays_the_first_response(fresh):
    client = fresh.client
    key = str(uuid.uuid4())
    first = post_export(client, key, EXPORT)
    assert first.status == 202, first.body
    assert first.header("Idempotent-Replayed") is None
    # The same request with its members in another order is the same request.
    reordered = {"format": "csv", "properties": ["email", "firstname"], "objectType": "contacts"}
    second = post_export(client, key, reordered)
    assert second.status == 202
    assert second.header("Idempotent-Replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.header("Location") == first.header("Location")
    assert job_ids(client) == [first.json()["id"]]


def test_key_with_another_body_is_422(fresh):
    client = fresh.client
    key = str(uuid.uuid4())
    assert post_export(client, key, EXPORT).status == 202
    changed = dict(EXPORT, properties=["email"])
    response = post_export(client, key, changed)
    assert response.status == 422
    problem = response.json()
    assert problem["type"].endswith("/idempotency-key-reused")
    assert problem["field"] == "Idempotency-Key"
    assert len(job_ids(client)) == 1


def test_keys_are_scoped_to_the_tenant(fresh):
    key = str(uuid.uuid4())
    first = post_export(fresh.client, key, EXPORT)
    other = fresh.new_client()
    second = post_export(other, key, EXPORT)
    assert second.status == 202
    assert second.json()["id"] != first.json()["id"]


def test_malformed_keys_are_400(fresh):
    client = fresh.client
    for key in ["", "k" * 256, "caf\u00e9"]:
        response = client.request("POST", "/v1/exports", body=json.dumps(EXPORT).encode(),
                                  headers={"Content-Type": "application/json",
                                           "Idempotency-Key": key.encode("utf-8")})
        assert response.status == 400, key
        assert response.json()["field"] == "Idempotency-Key"
    assert post_export(client, "k" * 255, EXPORT).status == 202


def test_twenty_parallel_clients_create_one_job(fresh):
    client = fresh.client
    key = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda _: post_export(client, key, EXPORT), range(20)))
    accepted = [r for r in responses if r.status == 202]
    in_flight = [r for r in responses if r.status == 409]
    assert len(accepted) + len(in_flight) == 20
    assert len({r.json()["id"] for r in accepted}) == 1
    for refused in in_flight:
        assert refused.json()["type"].endswith("/idempotency-key-in-use")
        assert refused.header("Retry-After") is not None
    assert len(job_ids(client)) == 1
    # Once the first request finished, every retry gets its response.
    assert post_export(client, key, EXPORT).json()["id"] == accepted[0].json()["id"]


def test_import_retry_with_new_boundary_is_recognised(fresh):
    client = fresh.client
    key = str(uuid.uuid4())
    data = b"email,firstname\nada@example.com,Ada\n"
    request = {"objectType": "contacts"}
    first = post_import(client, key, data, request)
    assert first.status == 202, first.body
    second = post_import(client, key, data, request)
    assert second.status == 202
    assert second.json()["id"] == first.json()["id"]
    other_file = post_import(client, key, data + b"bob@example.com,Bob\n", request)
    assert other_file.status == 422
    assert len(job_ids(client)) == 1
    job = client.wait(first.header("Location"))
    assert job["counts"]["created"] == 1
