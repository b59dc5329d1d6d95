"""Per-tenant limits of one gateway with small settings: the row limit of an import file, the
upload size limit, and the daily quotas of export submissions and import rows, counted in the real
Redis per UTC day."""
import datetime
import json
import os

import pytest

from conftest import Stack
from jobgate_client import multipart_body
from test_http_errors import raw_exchange

PROBLEMS = "https://jobgate.dev/problems/"
MAX_ROWS = 5
MAX_UPLOAD_BYTES = 64 * 1024
ROWS_PER_DAY = 12
EXPORTS_PER_DAY = 2
IMPORT_REQUEST = {"name": "quota test", "objectType": "contacts"}
EXPORT_REQUEST = {"name": "quota test", "objectType": "contacts", "properties": ["email"],
                  "format": "csv"}


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("quotas"), {
        "JOBGATE_MAX_ROWS_PER_FILE": MAX_ROWS,
        "JOBGATE_MAX_UPLOAD_BYTES": MAX_UPLOAD_BYTES,
        "JOBGATE_ROWS_PER_DAY": ROWS_PER_DAY,
        "JOBGATE_EXPORTS_PER_DAY": EXPORTS_PER_DAY,
    }, worker_count=0).start()
    yield stack
    stack.stop()


@pytest.fixture
def client(limited):
    return limited.new_client()


def contacts(rows):
    lines = ["Email,First Name"] + [f"person{row}@example.com,Person {row}" for row in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def job_ids(client, path):
    response = client.get(path)
    assert response.status == 200, response.body
    return [job["id"] for job in response.json()["results"]]


def next_utc_midnight():
    now = datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(),
                                     tzinfo=datetime.timezone.utc)


def stored_uploads(stack):
    root = os.path.join(stack.env["JOBGATE_BLOB_DIR"], stack.tenant)
    return [name for _, _, files in os.walk(root) for name in files]


def test_row_limit_rejects_before_job(limited, client):
    # A quoted line break keeps a record whole, so this file has exactly MAX_ROWS rows.
    at_limit = contacts(MAX_ROWS - 1) + b'"quoted@example.com","Two\r\nLines"\r\n'
    accepted = client.submit_import(at_limit, IMPORT_REQUEST)
    assert accepted.status == 202, accepted.body

    # With the request first, the upload stops at the first row over the limit, so the file's
    # count is not known.
    stopped = client.submit_import(contacts(1000), IMPORT_REQUEST)
    assert stopped.status == 413, stopped.body
    assert stopped.header("Content-Type") == "application/problem+json"
    problem = stopped.json()
    assert problem["type"] == PROBLEMS + "too-many-rows"
    assert problem["limit"] == "max-rows-per-file"
    assert problem["value"] == str(MAX_ROWS)
    assert "rows" not in problem

    # With the file first, the whole file is counted before the request is known.
    body, content_type = multipart_body([
        ("files", "contacts.csv", "text/csv", contacts(MAX_ROWS + 1)),
        ("importRequest", None, "application/json", json.dumps(IMPORT_REQUEST).encode()),
    ])
    counted = client.request("POST", "/v1/imports", body=body,
                             headers={"Content-Type": content_type})
    assert counted.status == 413, counted.body
    assert counted.json()["type"] == PROBLEMS + "too-many-rows"
    assert counted.json()["rows"] == str(MAX_ROWS + 1)

    assert job_ids(client, "/v1/imports") == [accepted.json()["id"]]
    assert job_ids(client, "/v1/jobs") == [accepted.json()["id"]]
    assert len(stored_uploads(limited)) == 1


def check_upload_too_large(status, problem):
    assert status == 413, problem
    assert problem["type"] == PROBLEMS + "upload-too-large"
    assert problem["limit"] == "max-upload-bytes"
    assert problem["value"] == str(MAX_UPLOAD_BYTES)


def test_upload_over_size_limit(limited, client):
    # A declared Content-Length over the limit is rejected before the body is sent.
    head = (f"POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {client.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {MAX_UPLOAD_BYTES + 1}\r\nExpect: 100-continue\r\n\r\n").encode()
    _, status, problem = raw_exchange(limited, head)
    check_upload_too_large(status, problem)

    # A chunked body is stopped once it passes the limit.
    head = (f"POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {client.api_key}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    opening = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.csv"\r\n\r\n'
               b"Email\r\n")
    piece = b"x" * 16384
    chunks = [b"%x\r\n%s\r\n" % (len(opening), opening)]
    chunks += [b"%x\r\n%s\r\n" % (len(piece), piece)] * 8
    _, status, problem = raw_exchange(limited, head, chunks)
    check_upload_too_large(status, problem)

    assert job_ids(client, "/v1/imports") == []
    assert stored_uploads(limited) == []


def test_daily_export_quota(client):
    headers = {"Content-Type": "application/json", "Idempotency-Key": "quota-export-1"}
    body = json.dumps(EXPORT_REQUEST).encode()
    first = client.request("POST", "/v1/exports", body=body, headers=headers)
    assert first.status == 202, first.body
    # A replay returns the stored response and does not count again.
    replay = client.request("POST", "/v1/exports", body=body, headers=headers)
    assert replay.status == 202, replay.body
    assert replay.header("Idempotent-Replayed") == "true"
    second = client.post_json("/v1/exports", EXPORT_REQUEST)
    assert second.status == 202, second.body

    rejected = client.post_json("/v1/exports", EXPORT_REQUEST)
    midnight = next_utc_midnight()
    assert rejected.status == 429, rejected.body
    assert rejected.header("Content-Type") == "application/problem+json"
    retry_after = int(rejected.header("Retry-After"))
    seconds_left = (midnight - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    # Redis's clock and this one may differ by a little.
    assert abs(retry_after - seconds_left) < 5
    problem = rejected.json()
    assert problem["type"] == PROBLEMS + "daily-quota-exceeded"
    assert problem["limit"] == "exports-per-day"
    assert problem["value"] == str(EXPORTS_PER_DAY)
    assert problem["used"] == str(EXPORTS_PER_DAY)
    resets_at = datetime.datetime.fromisoformat(problem["resetsAt"].replace("Z", "+00:00"))
    assert abs((resets_at - midnight).total_seconds()) < 5
    assert len(job_ids(client, "/v1/exports")) == EXPORTS_PER_DAY


def test_daily_rows_quota(client):
    first = client.submit_import(contacts(MAX_ROWS), IMPORT_REQUEST)
    assert first.status == 202, first.body
    second = client.submit_import(contacts(MAX_ROWS), IMPORT_REQUEST)
    assert second.status == 202, second.body

    rejected = client.submit_import(contacts(MAX_ROWS), IMPORT_REQUEST)
    assert rejected.status == 429, rejected.body
    assert int(rejected.header("Retry-After")) >= 1
    problem = rejected.json()
    assert problem["type"] == PROBLEMS + "daily-quota-exceeded"
    assert problem["limit"] == "rows-per-day"
    assert problem["used"] == str(2 * MAX_ROWS)
    assert problem["requested"] == str(MAX_ROWS)

    # What is left of the day's rows still fits a smaller file.
    rest = client.submit_import(contacts(ROWS_PER_DAY - 2 * MAX_ROWS), IMPORT_REQUEST)
    assert rest.status == 202, rest.body
    assert len(job_ids(client, "/v1/imports")) == 3
