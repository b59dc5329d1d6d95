"""The OpenAPI document in proto/: it passes scripts/check-openapi, names every problem type and
error kind that the code defines, and describes the bodies that a running gateway returns."""
import hashlib
import hmac
import http.client
import importlib
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

import pytest

from conftest import ROOT, free_port
from jobgate_client import Response, multipart_body

DOCUMENT = ROOT / "proto" / "openapi.yaml"
CHECK_SCRIPT = ROOT / "scripts" / "check-openapi"
PROBLEM_BASE = "https://jobgate.dev/problems/"
# Where this test installs jsonschema and PyYAML when python3 lacks them; git ignores .cache.
PACKAGE_DIR = ROOT / ".cache" / f"test-python{sys.version_info[0]}.{sys.version_info[1]}"

IMPORT_CSV = (b"Email,First Name,Notes\r\n"
              b"ana@example.com,Ana,first\r\n"
              b"not-an-email,Bob,second\r\n"
              b"cy@example.com,Cy,third\r\n"
              b"dee@example.com,Dee\r\n"
              b"eve@example.com,Eve,fifth\r\n")


def import_validator_modules():
    """Returns (jsonschema, referencing, yaml), installing them under .cache when missing."""
    names = ("jsonschema", "referencing", "yaml")
    try:
        return tuple(importlib.import_module(name) for name in names)
    except ImportError:
        pass
    if str(PACKAGE_DIR) not in sys.path:
        sys.path.insert(0, str(PACKAGE_DIR))
    try:
        return tuple(importlib.import_module(name) for name in names)
    except ImportError:
        pass
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(PACKAGE_DIR),
         "jsonschema>=4.18", "PyYAML"], capture_output=True, text=True, timeout=600)
    importlib.invalidate_caches()
    try:
        return tuple(importlib.import_module(name) for name in names)
    except ImportError as error:
        pytest.skip(f"jsonschema and PyYAML are missing and pip could not install them "
                    f"(exit {installed.returncode}: {installed.stderr.strip()[-300:]}): {error}")


class ApiSchemas:
    """The component schemas of the document, made strict so that a body member the document does
    not declare fails validation too."""

    BASE = "urn:jobgate:openapi"

    def __init__(self):
        jsonschema, referencing, yaml = import_validator_modules()
        self.document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
        strict = json.loads(json.dumps(self.document))
        for schema in walk(strict["components"]["schemas"]):
            if (schema.get("type") == "object" and "properties" in schema
                    and "additionalProperties" not in schema
                    and "unevaluatedProperties" not in schema):
                schema["unevaluatedProperties"] = False
        resource = referencing.Resource.from_contents(
            strict, default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource(self.BASE, resource)
        self.validator_class = jsonschema.Draft202012Validator

    def check(self, name, instance):
        validator = self.validator_class({"$ref": f"{self.BASE}#/components/schemas/{name}"},
                                         registry=self.registry)
        errors = [f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"
                  for error in validator.iter_errors(instance)]
        assert not errors, f"body does not match {name}:\n" + "\n".join(errors) + \
            "\nbody: " + json.dumps(instance)[:2000]
        return instance

    def enum(self, name):
        return self.document["components"]["schemas"][name]["enum"]


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


@pytest.fixture(scope="module")
def schemas():
    return ApiSchemas()


def json_body(response, schemas, name, status):
    assert response.status == status, response.body[:2000]
    assert response.header("Content-Type") == "application/json"
    return schemas.check(name, response.json())


def problem_body(response, schemas, status, slug, path=None):
    assert response.status == status, response.body[:2000]
    assert response.header("Content-Type") == "application/problem+json"
    document = schemas.check("Problem", response.json())
    assert document["type"] == PROBLEM_BASE + slug
    assert document["status"] == status
    if path is not None:
        assert document["instance"] == path
    return document


def accepted_job(response, schemas):
    job = json_body(response, schemas, "Job", 202)
    assert job["status"] == "PENDING"
    assert response.header("Location") == job["links"]["self"]
    assert response.header("Operation-Location") == job["links"]["self"]
    assert response.header("Retry-After") == "2"
    return job


def path_of(url):
    """Returns the path and query of an absolute link, as the test client sends them."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def sign_download(stack, job_id, expires):
    """Builds a download path signed with the stack's secret, as the gateway signs result links."""
    secret = stack.env["JOBGATE_SIGNING_SECRET"].encode()
    message = f"{job_id}\n{stack.tenant}\n{expires}".encode()
    signature = hmac.new(secret, message, hashlib.sha256).hexdigest()
    return f"/v1/downloads/{job_id}?tenant={stack.tenant}&expires={expires}&signature={signature}"


def chunked_post(stack, path, content_type, pieces):
    """Sends a body with chunked transfer coding; the gateway checks its size while reading."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
    try:
        connection.request("POST", path, body=iter(pieces), encode_chunked=True,
                           headers={"Content-Type": content_type, "Transfer-Encoding": "chunked",
                                    "Authorization": f"Bearer {stack.api_key}"})
        response = connection.getresponse()
        return Response(response.status,
                        {name.lower(): value for name, value in response.getheaders()},
                        response.read())
    finally:
        connection.close()


def slugs_in(path, pattern):
    return set(re.findall(pattern, (ROOT / path).read_text(encoding="utf-8")))


def test_check_script_passes():
    run = subprocess.run([sys.executable, str(CHECK_SCRIPT)], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr


def test_check_script_rejects_broken_document(tmp_path):
    shutil.copytree(ROOT / "proto" / "schemas", tmp_path / "schemas")
    broken = DOCUMENT.read_text(encoding="utf-8")
    broken = broken.replace("$ref: schemas/export-request.schema.json",
                            "$ref: schemas/no-such-request.schema.json")
    (tmp_path / "openapi.yaml").write_text(broken, encoding="utf-8")
    run = subprocess.run([sys.executable, str(CHECK_SCRIPT), str(tmp_path / "openapi.yaml")],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no-such-request.schema.json" in run.stderr


def test_check_script_rejects_bad_example(tmp_path):
    shutil.copytree(ROOT / "proto" / "schemas", tmp_path / "schemas")
    broken = DOCUMENT.read_text(encoding="utf-8").replace(
        "                    kind: invalid_email\n", "                    kind: not_a_kind\n")
    (tmp_path / "openapi.yaml").write_text(broken, encoding="utf-8")
    run = subprocess.run([sys.executable, str(CHECK_SCRIPT), str(tmp_path / "openapi.yaml")],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not_a_kind" in run.stderr


def test_problem_types_match_code(schemas):
    defined = slugs_in("gateway/problem.cpp", r'return \{http::status::\w+,\s*"([a-z-]+)"')
    assert "job-not-found" in defined
    sent = defined
    documented = {uri.removeprefix(PROBLEM_BASE) for uri in schemas.enum("ProblemType")}
    assert documented == sent


def test_job_failure_types_match_code(schemas):
    defined = slugs_in("common/records/import_failure.cpp", r'return "([a-z-]+)";')
    defined -= {"unknown"}
    defined |= slugs_in("worker/import_job.cpp", r'job_outcome::failed\("([a-z-]+)"')
    defined |= slugs_in("worker/job_runner.cpp", r'"errorType", "([a-z-]+)"')
    assert "upload-missing" in defined
    documented = {uri.removeprefix(PROBLEM_BASE) for uri in schemas.enum("JobFailureType")}
    assert documented == defined


def test_error_kinds_match_code(schemas):
    defined = slugs_in("common/records/row_error.cpp", r'return "([a-z_]+)";') - {"unknown"}
    assert "invalid_email" in defined
    assert set(schemas.enum("ErrorKind")) == defined


def test_pending_jobs_match_schemas(make_stack, schemas):
    # Without workers the jobs stay PENDING. A worker of another stack on the same Kafka may still
    # take one, so the test then skips instead of asserting on a state it cannot hold.
    idle = make_stack({"JOBGATE_MAX_JSON_BYTES": 1024}, worker_count=0)
    client = idle.client

    too_large = chunked_post(idle, "/v1/exports", "application/json", [b" " * 1000] * 2)
    problem_body(too_large, schemas, 413, "payload-too-large", "/v1/exports")
    large_part = client.submit_import(IMPORT_CSV, {"objectType": "contacts", "name": "n" * 1024})
    problem_body(large_part, schemas, 413, "payload-too-large", "/v1/imports")

    submitted = client.submit_import(IMPORT_CSV, {"objectType": "contacts"})
    job = accepted_job(submitted, schemas)
    assert job["kind"] == "imports"
    assert job["name"] == "contacts.csv"
    current = client.get(job["links"]["self"])
    job_now = json_body(current, schemas, "Job", 200)
    if job_now["status"] != "PENDING":
        client.request("POST", path_of(job["links"]["cancel"]))
        pytest.skip("a worker of another stack took the job, so it is not PENDING")
    assert current.header("Retry-After") == "2"
    assert current.header("Cache-Control") == "no-store"

    errors = client.get(job["links"]["errors"])
    page = json_body(errors, schemas, "ErrorPage", 200)
    assert errors.header("Retry-After") == "2"
    assert page["results"] == []
    assert "links" not in page

    result_path = urllib.parse.urlsplit(job["links"]["result"]).path
    not_ready = client.get(job["links"]["result"])
    document = problem_body(not_ready, schemas, 409, "result-not-ready", result_path)
    assert document["jobStatus"] == "PENDING"
    assert not_ready.header("Retry-After") == "2"

    canceled = client.request("POST", path_of(job["links"]["cancel"]))
    canceled_job = json_body(canceled, schemas, "Job", 202)
    assert canceled_job["status"] == "CANCELED"
    again = client.request("POST", path_of(job["links"]["cancel"]))
    assert problem_body(again, schemas, 409, "job-not-cancelable")["jobStatus"] == "CANCELED"
    final = client.get(job["links"]["result"])
    problem_body(final, schemas, 409, "no-result")
    assert final.header("Retry-After") is None

    export = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["email"]})
    export_job = accepted_job(export, schemas)
    assert export_job["kind"] == "exports"
    assert "counts" not in export_job
    json_body(client.request("POST", path_of(export_job["links"]["cancel"])), schemas, "Job", 202)
    unfinished = client.get(sign_download(idle, export_job["id"], int(time.time()) + 60),
                            authenticate=False)
    problem_body(unfinished, schemas, 410, "result-expired")
    expired = client.get(sign_download(idle, export_job["id"], int(time.time()) - 1),
                         authenticate=False)
    problem_body(expired, schemas, 410, "download-link-expired")


def test_import_bodies_match_schemas(fresh, schemas):
    client = fresh.client
    submitted = client.submit_import(IMPORT_CSV, {"name": "openapi import",
                                                  "objectType": "contacts"})
    job = accepted_job(submitted, schemas)

    done = client.wait(submitted.header("Location"))
    response = client.get(submitted.header("Location"))
    done = json_body(response, schemas, "Job", 200)
    assert done["status"] == "DONE"
    assert response.header("Retry-After") is None
    assert done["counts"] == {"rowsRead": 5, "created": 3, "updated": 0, "failed": 2,
                              "skippedBlank": 0}
    assert done["unmappedColumns"] == ["Notes"]
    assert done["progress"]["percent"] == 100
    assert json_body(client.get(f"/v1/jobs/{job['id']}"), schemas, "Job", 200) == done

    first = json_body(client.get(f"{job['links']['errors']}?limit=1"), schemas, "ErrorPage", 200)
    assert first["total"] == 2
    assert [entry["row"] for entry in first["results"]] == [3]
    assert first["results"][0]["kind"] == "invalid_email"
    second = json_body(client.get(first["links"]["next"]), schemas, "ErrorPage", 200)
    assert second["offset"] == 1
    assert second["results"][0]["kind"] == "column_count_mismatch"
    assert "links" not in second

    result = client.get(job["links"]["result"])
    outcome = json_body(result, schemas, "ImportResult", 200)
    assert outcome["counts"] == done["counts"]
    assert outcome["errors"] == job["links"]["errors"]
    assert result.header("Cache-Control") == "private, no-store"


def test_failed_import_matches_schema(fresh, schemas):
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "E-mail", "propertyName": "email"}]}
    submitted = fresh.client.submit_import(b"email\r\na@example.com\r\n", request)
    accepted_job(submitted, schemas)
    fresh.client.wait(submitted.header("Location"))
    job = json_body(fresh.client.get(submitted.header("Location")), schemas, "Job", 200)
    assert job["status"] == "FAILED"
    assert job["errorDetails"]["type"] == PROBLEM_BASE + "missing-column"
    result = fresh.client.get(job["links"]["result"])
    assert problem_body(result, schemas, 409, "no-result")["jobStatus"] == "FAILED"


@pytest.mark.parametrize("fmt, media_type", [("csv", "text/csv; charset=utf-8"),
                                             ("ndjson", "application/x-ndjson")])
def test_export_bodies_match_schemas(fresh, schemas, fmt, media_type):
    client = fresh.client
    imported = client.submit_import(IMPORT_CSV, {"objectType": "contacts"})
    assert client.wait(imported.header("Location"))["status"] == "DONE"

    request = {"objectType": "contacts", "properties": ["email", "firstname"], "format": fmt,
               "filters": [{"propertyName": "firstname", "operator": "NEQ", "value": "ana"}]}
    submitted = client.post_json("/v1/exports", request)
    job = accepted_job(submitted, schemas)
    client.wait(submitted.header("Location"))
    done = json_body(client.get(submitted.header("Location")), schemas, "Job", 200)
    assert done["status"] == "DONE"
    assert done["result"]["rows"] == 2
    assert done["result"]["format"] == fmt

    result = client.get(job["links"]["result"])
    outcome = json_body(result, schemas, "ExportResult", 200)
    assert outcome["rows"] == 2
    assert result.header("Cache-Control") == "private, no-store"
    download = client.get(outcome["url"], authenticate=False)
    assert download.status == 200
    assert download.header("Content-Type") == media_type
    assert download.header("Content-Disposition") == \
        f'attachment; filename="{job["id"]}.{fmt}"'
    assert len(download.body) == outcome["bytes"]

    tampered = outcome["url"].replace("signature=", "signature=0")
    problem_body(client.get(tampered, authenticate=False), schemas, 403, "invalid-download-link",
                 f"/v1/downloads/{job['id']}")
    late = client.request("POST", path_of(job["links"]["cancel"]))
    assert problem_body(late, schemas, 409, "job-not-cancelable")["jobStatus"] == "DONE"


def multipart(parts):
    body, content_type = multipart_body(parts)
    return {"body": body, "headers": {"Content-Type": content_type}}


REQUEST_PART = ("importRequest", None, "application/json", b'{"objectType":"contacts"}')
FILE_PART = ("files", "a.csv", "text/csv", b"email\r\na@example.com\r\n")
UNKNOWN_JOB = "imp_" + "a" * 32

# method, path, request options, expected status, problem slug
PROBLEM_CASES = [
    ("GET", f"/v1/jobs/{UNKNOWN_JOB}", {"authenticate": False}, 401, "unauthorized"),
    ("GET", "/v1/nothing-here", {}, 404, "not-found"),
    ("GET", "/nothing-here", {}, 404, "not-found"),
    ("GET", f"/v1/imports/{UNKNOWN_JOB}", {}, 404, "job-not-found"),
    ("GET", f"/v1/exports/{UNKNOWN_JOB}", {}, 404, "job-not-found"),
    ("GET", "/v1/jobs/imp_short", {}, 404, "job-not-found"),
    ("DELETE", "/v1/imports", {}, 405, "method-not-allowed"),
    ("POST", "/healthz", {}, 405, "method-not-allowed"),
    ("POST", "/v1/exports", {"body": b'{"objectType": ',
                             "headers": {"Content-Type": "application/json"}},
     400, "invalid-json"),
    ("POST", "/v1/exports", {"body": b'{"objectType": "contacts", "properties": []}',
                             "headers": {"Content-Type": "application/json"}},
     400, "invalid-request"),
    ("POST", "/v1/exports", {"body": b'{"objectType": "contacts", "properties": ["shoe"]}',
                             "headers": {"Content-Type": "application/json"}},
     400, "unknown-property"),
    ("POST", "/v1/exports", {"body": b"{}", "headers": {"Content-Type": "text/plain"}},
     415, "unsupported-media-type"),
    ("POST", "/v1/imports", {"body": b"{}", "headers": {"Content-Type": "application/json"}},
     415, "unsupported-media-type"),
    ("POST", "/v1/imports", multipart([FILE_PART]), 400, "missing-part"),
    ("POST", "/v1/imports", multipart([REQUEST_PART, FILE_PART, FILE_PART]),
     400, "invalid-multipart"),
    ("POST", "/v1/imports", multipart([("importRequest", None, "application/json", b"{"),
                                       FILE_PART]), 400, "invalid-json"),
    ("POST", "/v1/imports",
     multipart([("importRequest", None, "application/json",
                 b'{"objectType":"contacts","options":{"dedupeBy":"domain"}}'), FILE_PART]),
     400, "invalid-request"),
    ("GET", f"/v1/imports/{UNKNOWN_JOB}/errors?limit=0", {}, 400, "invalid-request"),
    ("GET", f"/v1/imports/{UNKNOWN_JOB}/errors?offset=-1", {}, 400, "invalid-request"),
    ("GET", f"/v1/downloads/exp_{'b' * 32}?tenant=t&expires=1&signature=00", {},
     403, "invalid-download-link"),
]


@pytest.mark.parametrize("method, path, options, status, slug", PROBLEM_CASES,
                         ids=[f"{case[3]}-{case[4]}-{index}"
                              for index, case in enumerate(PROBLEM_CASES)])
def test_problem_matches_schema(stack, schemas, method, path, options, status, slug):
    response = stack.client.request(method, path, **options)
    document = problem_body(response, schemas, status, slug, path.partition("?")[0])
    if status == 401:
        assert response.header("WWW-Authenticate") == "Bearer"
    if status == 405:
        assert response.header("Allow") == document["allowed"]


def test_header_too_large_matches_schema(stack, schemas):
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        connection.request("GET", "/healthz", headers={"X-Padding": "p" * (20 * 1024)})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 431
        assert response.getheader("Content-Type") == "application/problem+json"
        document = schemas.check("Problem", json.loads(body))
        assert document["type"] == PROBLEM_BASE + "header-too-large"
        assert "instance" not in document
    finally:
        connection.close()


def test_operations_match_schemas(stack, schemas):
    served = stack.client.get("/openapi.yaml", authenticate=False)
    assert served.status == 200
    assert served.header("Content-Type") == "application/yaml"
    assert served.body == DOCUMENT.read_bytes(), "the gateway embeds an older openapi.yaml: rebuild"
    json_body(stack.client.get("/healthz", authenticate=False), schemas, "Health", 200)


def test_readiness_matches_schema(make_stack, schemas):
    # Stacks of its own, so that a gateway failing here leaves the other tests' gateway running.
    up = make_stack(worker_count=0)
    json_body(up.client.get("/readyz", authenticate=False), schemas, "Readiness", 200)
    # Nothing listens on a port that was just free, so every Redis call fails.
    down = make_stack({"JOBGATE_REDIS_URL": f"redis://127.0.0.1:{free_port()}"}, worker_count=0)
    ready = down.client.get("/readyz", authenticate=False)
    problem_body(ready, schemas, 503, "service-unavailable", "/readyz")
    assert ready.header("Retry-After") == "5"


def test_store_outage_matches_schema(make_stack, schemas):
    down = make_stack({"JOBGATE_REDIS_URL": f"redis://127.0.0.1:{free_port()}"}, worker_count=0)
    job = down.client.get(f"/v1/imports/{UNKNOWN_JOB}")
    problem_body(job, schemas, 503, "service-unavailable")
    assert job.header("Retry-After") == "2"
    submitted = down.client.post_json("/v1/exports", {"objectType": "contacts",
                                                      "properties": ["email"]})
    problem_body(submitted, schemas, 503, "service-unavailable", "/v1/exports")
    assert submitted.header("Retry-After").isdigit()
