"""A small HTTP client for the jobgate API, built on the standard library, used by the tests."""
import http.client
import json
import time
import urllib.parse
import uuid


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class Client:
    def __init__(self, url, api_key):
        parsed = urllib.parse.urlsplit(url)
        self.host = parsed.hostname
        self.port = parsed.port
        self.api_key = api_key

    def request(self, method, path, body=None, headers=None, authenticate=True, timeout=60):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        all_headers = dict(headers or {})
        if authenticate and self.api_key:
            all_headers.setdefault("Authorization", f"Bearer {self.api_key}")
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()},
                            data)
        finally:
            connection.close()

    def get(self, path_or_url, **options):
        parsed = urllib.parse.urlsplit(path_or_url)
        path = parsed.path + ("?" + parsed.query if parsed.query else "")
        return self.request("GET", path, **options)

    def post_json(self, path, document):
        return self.request("POST", path, body=json.dumps(document).encode(),
                            headers={"Content-Type": "application/json"})

    def submit_import(self, csv_bytes, import_request, filename="contacts.csv"):
        body, content_type = multipart_body([
            ("importRequest", None, "application/json", json.dumps(import_request).encode()),
            ("files", filename, "text/csv", csv_bytes),
        ])
        return self.request("POST", "/v1/imports", body=body,
                            headers={"Content-Type": content_type})

    def wait(self, job_url, timeout=120, until=("DONE", "FAILED", "CANCELED")):
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(job_url)
            assert response.status == 200, response.body
            job = response.json()
            if job["status"] in until:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job still {job['status']} after {timeout} s: {job}")
            time.sleep(0.1)

    def all_errors(self, job_id):
        entries = []
        path = f"/v1/imports/{job_id}/errors?limit=1000"
        while path:
            response = self.get(path)
            assert response.status == 200, response.body
            page = response.json()
            entries.extend(page["results"])
            path = page.get("links", {}).get("next")
        return entries


def multipart_body(parts):
    boundary = "jobgate-" + uuid.uuid4().hex
    chunks = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                      f"Content-Type: {content_type}\r\n\r\n".encode())
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
