#!/usr/bin/env python3
"""Walk through an import and an export against a running jobgate stack.

Reads JOBGATE_URL and JOBGATE_API_KEY, generates a sample contacts CSV, imports it with a progress
line, prints the rejected rows, exports the contacts as CSV, downloads the file and compares the
counts. Exits non-zero when any step fails or a count is off.
"""
import csv
import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
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


def main():
    url = os.environ.get("JOBGATE_URL")
    key = os.environ.get("JOBGATE_API_KEY")
    if not url or not key:
        fail("JOBGATE_URL and JOBGATE_API_KEY must be set (deploy/local/stack up prints them)")
    client = Client(url, key)
    rows = int(os.environ.get("JOBGATE_DEMO_ROWS", "5000"))

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
