"""The gateway's responses to bad requests: status, problem type and the offending value."""
import http.client
import json
import os
import socket

import pytest

from jobgate_client import multipart_body


def problem(response):
    assert response.header("Content-Type") == "application/problem+json", response.body
    document = response.json()
    assert document["status"] == response.status
    return document


def test_missing_api_key_is_401(stack):
    response = stack.client.request("GET", "/v1/jobs/imp_" + "0" * 32, authenticate=False)
    assert response.status == 401
    assert problem(response)["type"].endswith("/unauthorized")


def test_unknown_route_is_404(stack):
    response = stack.client.get("/v1/nothing-here")
    assert response.status == 404
    assert problem(response)["type"].endswith("/not-found")


def test_unknown_job_is_404(stack):
    response = stack.client.get("/v1/imports/imp_" + "a" * 32)
    assert response.status == 404
    assert problem(response)["type"].endswith("/job-not-found")


def test_wrong_method_is_405(stack):
    response = stack.client.request("DELETE", "/v1/imports")
    assert response.status == 405
    assert response.header("Allow") == "GET, POST"
    assert problem(response)["type"].endswith("/method-not-allowed")


def test_export_invalid_json_is_400(stack):
    response = stack.client.request("POST", "/v1/exports", body=b'{"objectType": ',
                                    headers={"Content-Type": "application/json"})
    assert response.status == 400
    document = problem(response)
    assert document["type"].endswith("/invalid-json")
    assert "offset" in document


def test_export_schema_violation_names_field(stack):
    response = stack.client.post_json("/v1/exports", {"objectType": "contacts",
                                                      "properties": ["email"], "format": "xml"})
    assert response.status == 400
    document = problem(response)
    assert document["type"].endswith("/invalid-request")
    assert document["field"] == "/format"


def test_export_unknown_property_is_400(stack):
    response = stack.client.post_json("/v1/exports", {"objectType": "contacts",
                                                      "properties": ["email", "shoe_size"]})
    assert response.status == 400
    document = problem(response)
    assert document["type"].endswith("/unknown-property")
    assert document["value"] == "shoe_size"


def test_import_unknown_mapping_is_400(stack):
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "Email", "propertyName": "e_mail"}]}
    response = stack.client.submit_import(b"Email\r\na@example.com\r\n", request)
    assert response.status == 400
    document = problem(response)
    assert document["type"].endswith("/unknown-property")
    assert document["field"] == "/columnMappings/0/propertyName"


def test_import_wrong_content_type_is_415(stack):
    response = stack.client.request("POST", "/v1/imports", body=b"email\r\n",
                                    headers={"Content-Type": "text/csv"})
    assert response.status == 415
    assert problem(response)["type"].endswith("/unsupported-media-type")


def test_import_missing_part_is_400(stack):
    body, content_type = multipart_body([("files", "a.csv", "text/csv", b"email\r\n")])
    response = stack.client.request("POST", "/v1/imports", body=body,
                                    headers={"Content-Type": content_type})
    assert response.status == 400
    document = problem(response)
    assert document["type"].endswith("/missing-part")
    assert document["part"] == "importRequest"


def test_import_malformed_multipart_is_400(stack):
    response = stack.client.request("POST", "/v1/imports", body=b"--b\r\nno end",
                                    headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status == 400
    assert problem(response)["type"].endswith("/invalid-multipart")


def raw_exchange(stack, head, body_chunks=(), read_interim=False):
    """Sends a request by hand and returns (interim status line or None, final response)."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as sock:
        sock.sendall(head)
        interim = None
        if read_interim:
            interim = sock.recv(4096)
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        response = http.client.HTTPResponse(sock)
        response.begin()
        return interim, response.status, json.loads(response.read() or b"null")


def test_content_length_over_limit_is_413_before_body(stack):
    limit = 64 * 1024 * 1024
    head = (f"POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {stack.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {limit + 1}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    _, status, document = raw_exchange(stack, head)
    assert status == 413
    assert document["type"].endswith("/upload-too-large")
    assert document["value"] == str(limit)


def test_expect_continue_after_header_checks(stack):
    body, content_type = multipart_body([
        ("importRequest", None, "application/json", b'{"objectType":"contacts"}'),
        ("files", "a.csv", "text/csv", b"email\r\nq@example.com\r\n")])
    head = (f"POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {stack.api_key}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    interim, status, document = raw_exchange(stack, head, [body], read_interim=True)
    assert interim.startswith(b"HTTP/1.1 100 Continue")
    assert status == 202
    assert document["status"] == "PENDING"


def test_expect_continue_rejected_without_key(stack):
    head = (b"POST /v1/imports HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
            b"boundary=b\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
    _, status, _ = raw_exchange(stack, head)
    assert status == 401


def test_chunked_body_over_limit_is_413(make_stack):
    small = make_stack({"JOBGATE_MAX_UPLOAD_BYTES": 1024 * 1024}, worker_count=0)
    boundary = "b0undary"
    head = (f"POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {small.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    opening = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
               "filename=\"big.csv\"\r\n\r\nemail\r\n").encode()
    piece = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(opening), opening)]
    chunks += [b"%x\r\n%s\r\n" % (len(piece), piece)] * 40
    _, status, document = raw_exchange(small, head, chunks)
    assert status == 413
    assert document["type"].endswith("/upload-too-large")
    leftovers = [name for _, _, files in os.walk(small.env["JOBGATE_BLOB_DIR"]) for name in files
                 if ".tmp." in name]
    assert leftovers == []


def test_upload_memory_stays_flat(make_stack):
    big = make_stack({"JOBGATE_MAX_UPLOAD_BYTES": 256 * 1024 * 1024}, worker_count=0)
    row = b"someone@example.com,Some,Body,+1 555 0100,Acme,Engineer,Lyon,France,lead,2024-01-01\r\n"
    data = row * (48 * 1024 * 1024 // len(row))

    def rss_kib():
        with open(f"/proc/{big.gateway.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    # The mapping names a column the file lacks, so the job fails at once and costs no worker time.
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "NoSuchColumn", "propertyName": "email"}]}
    warm = big.client.submit_import(row * 1000, request)
    assert warm.status == 202, warm.body
    before = rss_kib()
    response = big.client.submit_import(data, request)
    after = rss_kib()
    assert response.status == 202, response.body
    # The test client keeps the body in memory. The gateway must not, because it streams to the blob
    # store.
    assert after - before < 16 * 1024, f"gateway RSS grew by {after - before} KiB"
