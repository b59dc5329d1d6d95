#!/usr/bin/env python3
"""Walk through an import and an export against a running jobgate stack.

Reads JOBGATE_URL and JOBGATE_API_KEY, subscribes a local receiver to webhooks, generates a sample
contacts CSV, imports it with a progress line, prints the rejected rows, exports the contacts as
CSV, downloads the file, compares the counts and checks the signed webhooks of both jobs. Exits
non-zero when any step fails or a count is off.
"""
import base64
import csv
import hashlib
import hmac
import http.server
import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
from jobgate_client import Client  # noqa: E402


def fail(message):
    print(f"demo: {message}", file=sys.stderr)
    sys.exit(1)


def follow(client, location, label):
    """Polls a job until it is final, printing one progress line that updates in place."""
    interactive = sys.stdout.isatty()
    last = None
    while True:
        response = client.get(location)
        if response.status != 200:
            fail(f"status request failed with {response.status}: {response.body[:300]!r}")
        job = response.json()
        progress = job.get("progress", {})
        line = (f"{label}: {job['status']:<10} {progress.get('rowsProcessed', 0):>7} of "
                f"{progress.get('rowsTotal', '?')} rows ({progress.get('percent', 0)}%)")
        if interactive:
            print("\r" + line, end="", flush=True)
        elif line != last:
            print(line, flush=True)
        last = line
        if job["status"] in ("DONE", "FAILED", "CANCELED"):
            if interactive:
                print()
            return job
        delay = float(response.header("Retry-After") or 1)
        time.sleep(min(delay, 0.5))


class WebhookReceiver:
    """Receives webhooks on 127.0.0.1 and keeps each request's headers and body."""

    def __init__(self):
        self.received = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *arguments):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/demo-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, job_ids, timeout=30):
        """Returns the deliveries of these jobs once each has one, or fails after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            by_job = {json.loads(body)["data"]["jobId"]: (headers, body)
                      for headers, body in list(self.received)}
            if all(job_id in by_job for job_id in job_ids):
                return [by_job[job_id] for job_id in job_ids]
            time.sleep(0.2)
        fail(f"no webhook for every job within {timeout} s; received {len(self.received)}")


def signature_valid(secret, headers, body):
    """Checks a delivery as the Standard Webhooks specification defines it: HMAC-SHA256 with the
    decoded secret over id, timestamp and body, against any of the signatures sent."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and any(hmac.compare_digest(expected, sent)
                         for sent in headers["webhook-signature"].split(" "))


def main():
    url = os.environ.get("JOBGATE_URL")
    key = os.environ.get("JOBGATE_API_KEY")
    if not url or not key:
        fail("JOBGATE_URL and JOBGATE_API_KEY must be set (deploy/local/stack up prints them)")
    client = Client(url, key)
    rows = int(os.environ.get("JOBGATE_DEMO_ROWS", "5000"))

    # 0. A webhook subscription: the stack's workers sign and send each job's completion here.
    receiver = WebhookReceiver()
    response = client.post_json("/v1/webhooks", {"url": receiver.url,
                                                 "events": ["job.completed", "job.failed"]})
    if response.status != 201:
        fail(f"webhook subscription failed with {response.status}: {response.body[:500]!r}")
    subscription = response.json()
    print(f"POST /v1/webhooks -> 201 Created, {subscription['id']} sends to {receiver.url}")

    with tempfile.TemporaryDirectory(prefix="jobgate-demo-") as workdir:
        work = pathlib.Path(workdir)
        sample = work / "contacts.csv"
        expected_file = work / "expected.json"
        # A tag per run keeps the addresses new, so every run creates its contacts afresh.
        tag = "." + time.strftime("%H%M%S")
        subprocess.run([str(HERE / "generate-contacts"), "--rows", str(rows), "--out", str(sample),
                        "--expected", str(expected_file), "--tag", tag], check=True)
        expected = json.loads(expected_file.read_text())
        print(f"Generated {sample.name}: {rows} rows, {sample.stat().st_size} bytes, with duplicate "
              "emails, invalid rows and blank lines.")

        # 1. Import: multipart upload of the request and the file; 202 comes back at once.
        response = client.submit_import(sample.read_bytes(), {
            "name": "demo contacts", "objectType": "contacts",
            "options": {"delimiter": ",", "hasHeader": True, "dedupeBy": "email"}})
        if response.status != 202:
            fail(f"import submission failed with {response.status}: {response.body[:500]!r}")
        print(f"POST /v1/imports -> 202 Accepted, Location: {response.header('Location')}")
        job = follow(client, response.header("Location"), "import")
        if job["status"] != "DONE":
            fail(f"import ended {job['status']}: {json.dumps(job.get('errorDetails'))}")
        counts = job["counts"]
        print("Import counts:", json.dumps(counts))

        # 2. The rejected rows, as the errors endpoint lists them.
        errors = client.get(f"/v1/imports/{job['id']}/errors?limit=10").json()
        print(f"Rejected rows: {errors['total']} (first {len(errors['results'])} shown)")
        for entry in errors["results"]:
            print(f"  row {entry['row']:>5}  {entry['kind']:<17} {entry.get('column', '')}: "
                  f"{entry.get('value', '')!r}")

        # 3. Export every contact as CSV and download the file behind the signed link.
        properties = ["email", "firstname", "lastname", "phone", "company", "city", "country"]
        response = client.post_json("/v1/exports", {"name": "demo export", "objectType": "contacts",
                                                    "properties": properties, "format": "csv"})
        if response.status != 202:
            fail(f"export submission failed with {response.status}: {response.body[:500]!r}")
        print(f"POST /v1/exports -> 202 Accepted, Location: {response.header('Location')}")
        export = follow(client, response.header("Location"), "export")
        if export["status"] != "DONE":
            fail(f"export ended {export['status']}: {json.dumps(export.get('errorDetails'))}")
        result = client.get(export["links"]["result"]).json()
        download = client.get(result["url"], authenticate=False)
        if download.status != 200:
            fail(f"download failed with {download.status}")
        target = pathlib.Path(os.environ.get("JOBGATE_RUN_DIR", ".")) / "demo-export.csv"
        target.write_bytes(download.body)
        exported = list(csv.DictReader(io.StringIO(download.body.decode("utf-8"), newline="")))
        print(f"Downloaded {len(download.body)} bytes to {target} (link valid until "
              f"{result['urlExpiresAt']})")

    # 4. The signed webhooks of both jobs; the subscription goes, since the receiver stops here.
    for headers, body in receiver.wait_for([job["id"], export["id"]]):
        event = json.loads(body)
        if not signature_valid(subscription["secret"], headers, body):
            fail(f"webhook {headers['webhook-id']} has no valid signature")
        print(f"Webhook {event['type']} for {event['data']['jobId']}: signature valid")
    client.request("DELETE", f"/v1/webhooks/{subscription['id']}")

    print()
    print(f"Rows read {counts['rowsRead']}, created {counts['created']}, updated "
          f"{counts['updated']}, rejected {counts['failed']}, blank {counts['skippedBlank']}; "
          f"exported {len(exported)} contacts.")
    if counts != expected["counts"]:
        fail(f"import counts differ from the generator's: {json.dumps(expected['counts'])}")
    if len(exported) < counts["created"]:
        fail("the export has fewer contacts than the import created")
    print("All counts match what the generator expected.")


if __name__ == "__main__":
    main()
