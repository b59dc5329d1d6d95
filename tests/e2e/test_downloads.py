"""Conditional and range requests on export downloads and job results, through the real stack."""
import hashlib
import re
import time
import urllib.parse

import pytest

CONTACTS = b"email,firstname,lastname\r\n" + b"".join(
    f"person{i}@example.com,First{i},Last{i}\r\n".encode() for i in range(200))


@pytest.fixture
def export(fresh):
    """A DONE export of 200 contacts: the client, the result response and the file's bytes."""
    client = fresh.client
    imported = client.submit_import(CONTACTS, {"objectType": "contacts"})
    assert imported.status == 202, imported.body
    assert client.wait(imported.header("Location"))["status"] == "DONE"

    submitted = client.post_json("/v1/exports", {"objectType": "contacts",
                                                 "properties": ["email", "firstname"]})
    assert submitted.status == 202, submitted.body
    job = client.wait(submitted.header("Location"))
    assert job["status"] == "DONE", job
    result = client.get(job["links"]["result"])
    assert result.status == 200, result.body
    whole = client.get(result.json()["url"], authenticate=False)
    assert whole.status == 200, whole.body
    return client, job, result, whole.body


def fetch(client, url, **headers):
    return client.get(url, authenticate=False, headers=headers)


def test_download_validators(export):
    client, job, result, body = export
    url = result.json()["url"]
    response = fetch(client, url)
    assert response.status == 200
    assert response.body == body
    assert len(body) == result.json()["bytes"]
    assert response.header("Content-Length") == str(len(body))
    assert response.header("Accept-Ranges") == "bytes"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.header("ETag"))
    assert fetch(client, url).header("ETag") == response.header("ETag")

    # max-age ends with the link, which is 300 to 330 seconds away (download-link-ttl 300).
    cache_control = response.header("Cache-Control")
    match = re.fullmatch(r"private, max-age=(\d+)", cache_control)
    assert match, cache_control
    expires = int(re.search(r"expires=(\d+)", url).group(1))
    assert 0 < int(match.group(1)) <= expires - int(time.time()) + 1
    assert int(match.group(1)) <= 330


def test_download_not_modified(export):
    client, _, result, _ = export
    url = result.json()["url"]
    etag = fetch(client, url).header("ETag")
    for condition in [etag, "W/" + etag, '"other", ' + etag, "*"]:
        response = fetch(client, url, **{"If-None-Match": condition})
        assert response.status == 304, condition
        assert response.body == b""
        assert response.header("ETag") == etag
        assert response.header("Cache-Control").startswith("private, max-age=")
        assert response.header("Content-Length") is None

    changed = fetch(client, url, **{"If-None-Match": '"0123456789abcdef0123456789abcdef"'})
    assert changed.status == 200


@pytest.mark.parametrize("header, first, last", [("bytes=0-9", 0, 9), ("bytes=100-", 100, None),
                                                 ("bytes=-7", None, None),
                                                 ("bytes=10-99999999", 10, None)])
def test_download_ranges(export, header, first, last):
    client, _, result, body = export
    size = len(body)
    if first is None:
        first = size - 7
    if last is None:
        last = size - 1
    response = fetch(client, result.json()["url"], Range=header)
    assert response.status == 206, header
    assert response.body == body[first:last + 1]
    assert response.header("Content-Range") == f"bytes {first}-{last}/{size}"
    assert response.header("Content-Length") == str(last - first + 1)
    assert response.header("Content-Type") == "text/csv; charset=utf-8"
    assert response.header("ETag")


def test_download_unsatisfiable_range(export):
    client, _, result, body = export
    url = result.json()["url"]
    for header in [f"bytes={len(body)}-", f"bytes={len(body) + 5}-{len(body) + 10}", "bytes=-0"]:
        response = fetch(client, url, Range=header)
        assert response.status == 416, header
        assert response.header("Content-Range") == f"bytes */{len(body)}"
        assert response.body == b""


def test_download_ranges_that_send_everything(export):
    client, _, result, body = export
    url = result.json()["url"]
    etag = fetch(client, url).header("ETag")
    # A multi-range request, a malformed one and another unit get the whole file.
    for header in ["bytes=0-1,5-6", "bytes=9-2", "lines=1-2"]:
        response = fetch(client, url, Range=header)
        assert response.status == 200, header
        assert response.body == body
        assert response.header("Content-Range") is None

    # If-Range with the current tag allows the range. Any other validator gets the whole file.
    allowed = fetch(client, url, Range="bytes=0-3", **{"If-Range": etag})
    assert allowed.status == 206
    assert allowed.body == body[:4]
    for validator in ['"stale"', "W/" + etag, "Wed, 21 Oct 2015 07:28:00 GMT"]:
        ignored = fetch(client, url, Range="bytes=0-3", **{"If-Range": validator})
        assert ignored.status == 200, validator
        assert ignored.body == body


def test_download_head(export):
    client, _, result, body = export
    parts = urllib.parse.urlsplit(result.json()["url"])
    response = client.request("HEAD", parts.path + "?" + parts.query, authenticate=False,
                              headers={"Range": "bytes=0-9"})
    # HEAD describes the whole file and ignores Range.
    assert response.status == 200
    assert response.body == b""
    assert response.header("Content-Length") == str(len(body))
    assert response.header("Accept-Ranges") == "bytes"
    assert response.header("ETag") == fetch(client, result.json()["url"]).header("ETag")


def test_export_result_etag(export):
    client, job, result, _ = export
    etag = result.header("ETag")
    assert etag == '"' + hashlib.sha256(result.body).hexdigest()[:32] + '"'
    assert result.header("Cache-Control") == "private, no-store"

    # The link's expiry is rounded up to 30 s steps, so a repeated request usually matches. When a
    # step boundary passed in between, the body and the tag both change.
    again = client.get(job["links"]["result"], headers={"If-None-Match": etag})
    if again.status == 304:
        assert again.body == b""
        assert again.header("ETag") == etag
    else:
        assert again.status == 200
        assert again.json()["url"] != result.json()["url"]
        assert again.header("ETag") != etag

    changed = client.get(job["links"]["result"], headers={"If-None-Match": '"nope"'})
    assert changed.status == 200


def test_import_result_etag(fresh):
    client = fresh.client
    submitted = client.submit_import(CONTACTS, {"objectType": "contacts"})
    job = client.wait(submitted.header("Location"))
    assert job["status"] == "DONE", job
    result = client.get(job["links"]["result"])
    assert result.status == 200
    etag = result.header("ETag")
    assert etag == '"' + hashlib.sha256(result.body).hexdigest()[:32] + '"'

    cached = client.get(job["links"]["result"], headers={"If-None-Match": etag})
    assert cached.status == 304
    assert cached.body == b""
    assert cached.header("ETag") == etag
    assert cached.header("Cache-Control") == "private, no-store"

    weak = client.get(job["links"]["result"], headers={"If-None-Match": "W/" + etag})
    assert weak.status == 304
    other = client.get(job["links"]["result"], headers={"If-None-Match": '"x"'})
    assert other.status == 200
    assert other.body == result.body

