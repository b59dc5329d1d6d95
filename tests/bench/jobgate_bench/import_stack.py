"""Contacts CSVs from scripts/generate-contacts, and a jobgate gateway of its own whose API keys
name one fresh tenant per import, with the import and export workers that the import and export
scenarios run. The import references read the same CSVs."""
import datetime
import http.client
import json
import pathlib
import secrets
import subprocess
import sys
import time
import urllib.parse

from .process_memory import read_memory_kb, to_mb
from .scenarios.end_to_end import wait_for_end
from .stack import Stack

ROOT = pathlib.Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "scripts" / "generate-contacts"
SEED = 7
# API keys of the gateway: one tenant per import, so that every import creates its records anew
# and every export reads the records of exactly one import.
TENANTS = 32
IMPORT_REQUEST = {"name": "bench import", "objectType": "contacts",
                  "options": {"delimiter": ",", "dedupeBy": "email"}}
# The contact properties that scripts/generate-contacts writes, in its column order.
CONTACT_PROPERTIES = ["email", "firstname", "lastname", "phone", "company", "jobtitle", "city",
                      "country", "lifecyclestage", "createdate"]
WARMUP_ROWS = 200
UPLOAD_CHUNK_BYTES = 1 << 20


def contacts_csv(context, rows):
    """Return the path of a contacts CSV with `rows` data rows, generated once per run."""
    directory = pathlib.Path(context.workdir) / "contacts"
    directory.mkdir(exist_ok=True)
    path = directory / f"contacts-{rows}.csv"
    if not path.exists():
        started = time.monotonic()
        partial = path.with_suffix(".partial")
        subprocess.run([sys.executable, str(GENERATOR), "--rows", str(rows), "--seed", str(SEED),
                        "--out", str(partial)], check=True, timeout=600)
        partial.rename(path)
        context.log(f"generated {path.name} ({path.stat().st_size / 1e6:.1f} MB) in "
                    f"{time.monotonic() - started:.1f} s")
    return path


def parse_timestamp(text):
    """Return the seconds since the epoch of a job timestamp such as 2026-01-01T00:00:00.000Z."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Tenant:
    """One tenant of the import stack and its API key."""

    def __init__(self, stack, name, api_key):
        self.stack = stack
        self.name = name
        self.api_key = api_key

    def request(self, method, path, body=None):
        connection = self.stack.connection(self.api_key)
        try:
            return connection.request(method, path, body)
        finally:
            connection.close()

    def get_json(self, path):
        status, _, payload = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} returned {status}: {payload[:300]!r}")
        return json.loads(payload)

    def submit_import(self, csv_path, attempts=10):
        """POST /v1/imports with the file streamed from disk; return (job id, seconds to 202)."""
        boundary = "jobgate-bench-" + secrets.token_hex(8)
        request = json.dumps(IMPORT_REQUEST, separators=(",", ":"))
        prefix = (f"--{boundary}\r\n"
                  'Content-Disposition: form-data; name="importRequest"\r\n'
                  "Content-Type: application/json\r\n\r\n"
                  f"{request}\r\n"
                  f"--{boundary}\r\n"
                  f'Content-Disposition: form-data; name="files"; filename="{csv_path.name}"\r\n'
                  "Content-Type: text/csv\r\n\r\n").encode()
        suffix = f"\r\n--{boundary}--\r\n".encode()
        length = len(prefix) + csv_path.stat().st_size + len(suffix)
        for _ in range(attempts):
            connection = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=600)
            try:
                started = time.monotonic()
                connection.putrequest("POST", "/v1/imports")
                connection.putheader("Authorization", f"Bearer {self.api_key}")
                connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
                connection.putheader("Content-Length", str(length))
                connection.endheaders()
                connection.send(prefix)
                with open(csv_path, "rb") as source:
                    while chunk := source.read(UPLOAD_CHUNK_BYTES):
                        connection.send(chunk)
                connection.send(suffix)
                response = connection.getresponse()
                payload = response.read()
                seconds = time.monotonic() - started
            finally:
                connection.close()
            # A 503 is retried after its Retry-After, as Connection.submit_export() does.
            if response.status != 503:
                break
            time.sleep(min(2.0, float(response.getheader("Retry-After", "1") or 1)))
        if response.status != 202:
            raise RuntimeError(f"POST /v1/imports returned {response.status}: {payload[:300]!r}")
        return json.loads(payload)["id"], seconds

    def submit_export(self, properties):
        connection = self.stack.connection(self.api_key)
        try:
            body = {"name": "bench export", "objectType": "contacts", "properties": properties,
                    "format": "csv"}
            job_id, _, _ = connection.submit_export(body)
            return job_id
        finally:
            connection.close()

    def wait_for_job(self, job_id, timeout=900):
        """Follow the job's event stream until it ends, and return the end time and the job
        resource. Raise RuntimeError unless the job ended DONE."""
        ended, status = wait_for_end(self.stack.port, self.api_key, f"/v1/jobs/{job_id}",
                                     timeout=timeout)
        job = self.get_json(f"/v1/jobs/{job_id}")
        if status != "DONE" or job["status"] != "DONE":
            raise RuntimeError(f"job {job_id} ended as {status}: {json.dumps(job)[:1000]}")
        return ended, job


class ImportStack(Stack):
    """A gateway with TENANTS extra tenants, one imports worker and the export workers of
    Stack.set_workers(). It shares the blob directory of the run's main stack, so an export that
    a worker of that stack happens to run still writes its file where this gateway reads it."""

    def __init__(self, context):
        super().__init__(context.build_dir, pathlib.Path(context.workdir) / "import-stack",
                         context.redis_url, context.brokers)
        self.blob_dir = pathlib.Path(context.workdir) / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.env["JOBGATE_BLOB_DIR"] = str(self.blob_dir)
        self.spare = [(f"{self.tenant}t{index}", secrets.token_hex(16))
                      for index in range(TENANTS)]
        self.env["JOBGATE_API_KEYS"] = ",".join(
            [f"{self.api_key}={self.tenant}"] + [f"{key}={name}" for name, key in self.spare])
        self.used = []
        self.import_worker = None
        self.import_workers_started = 0
        # Rows of a CSV -> (tenant, job resource) of an import whose records an export may read.
        self.imported = {}

    def connection(self, api_key=None):
        connection = super().connection()
        if api_key is not None:
            connection.api_key = api_key
        return connection

    def new_tenant(self):
        """Return a tenant that has no records yet."""
        if not self.spare:
            raise RuntimeError(f"all {TENANTS} tenants of the import stack are used; raise "
                               "TENANTS in import_stack.py")
        name, api_key = self.spare.pop(0)
        self.used.append(name)
        return Tenant(self, name, api_key)

    def stop_import_worker(self):
        self._stop([self.import_worker])
        self.import_worker = None

    def ensure_import_worker(self, context):
        """Start an imports worker and warm it up, unless one runs already."""
        if self.import_worker is None or self.import_worker.poll() is not None:
            self.restart_import_worker()
            self.warm_up_import_worker(context)

    def restart_import_worker(self):
        """Stop the imports worker and start a fresh one; return its pid."""
        self._stop([self.import_worker])
        self.import_workers_started += 1
        log_name = f"imports-worker{self.import_workers_started}.log"
        self.import_worker = self._spawn("jobgate-worker", ["--kinds", "imports"], log_name)
        self.import_worker.log_name = log_name
        return self.import_worker.pid

    def import_file(self, csv_path, rows):
        """Import csv_path into a new tenant and wait for DONE; return (tenant, metrics, job)."""
        tenant = self.new_tenant()
        submitted = time.monotonic()
        job_id, upload_seconds = tenant.submit_import(csv_path)
        ended, job = tenant.wait_for_job(job_id)
        counts = job["counts"]
        if counts["rowsRead"] != rows:
            raise RuntimeError(f"import {job_id} read {counts['rowsRead']} rows of {rows}")
        worker_seconds = parse_timestamp(job["completedAt"]) - parse_timestamp(job["startedAt"])
        total_seconds = ended - submitted
        metrics = {
            "rows_per_s": rows / worker_seconds if worker_seconds > 0 else 0.0,
            "seconds": worker_seconds,
            "seconds_per_row": worker_seconds / rows,
            "submit_to_done_s": total_seconds,
            "submit_to_done_rows_per_s": rows / total_seconds,
            "upload_s": upload_seconds,
            "created": counts["created"], "updated": counts["updated"],
            "failed": counts["failed"], "skipped_blank": counts["skippedBlank"],
            "attempts": job["attempts"],
        }
        return tenant, metrics, job

    def wait_until_idle(self, kind, timeout=600):
        """Wait until no job of kind is pending or running, such as imports that another part of
        the run queued, so that a measured job runs alone."""
        deadline = time.monotonic() + timeout
        while self.active_jobs(kind) > 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} jobs still active after {timeout} s")
            time.sleep(0.1)

    def warm_up_import_worker(self, context):
        """Import a small file, so the fresh worker has joined its consumer group."""
        self.import_file(contacts_csv(context, WARMUP_ROWS), WARMUP_ROWS)

    def import_worker_memory(self):
        """Return the imports worker's peak and current resident memory in MiB."""
        fields = read_memory_kb(self.import_worker.pid)
        return {"worker_peak_rss_mib": to_mb(fields["VmHWM"]),
                "worker_rss_mib": to_mb(fields["VmRSS"])}

    def delete_records(self, names=None):
        """Delete the records of the named tenants (default: every tenant used), with UNLINKs sent
        through redis-cli --pipe."""
        parsed = urllib.parse.urlsplit(self.redis_url)
        address = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 6379)]
        names = list(self.used) if names is None else names
        for name in names:
            sequence = subprocess.run(["redis-cli", *address, "GET", f"jg:seq:{name}:contacts"],
                                      capture_output=True, text=True, timeout=30).stdout.strip()
            count = int(sequence) if sequence.isdigit() else 0
            commands = [["UNLINK", f"jg:uniq:{name}:contacts", f"jg:recs:{name}:contacts",
                         f"jg:seq:{name}:contacts"]]
            for first in range(1, count + 1, 1000):
                commands.append(["UNLINK"] + [f"jg:rec:{name}:contacts:{record}" for record in
                                              range(first, min(first + 1000, count + 1))])
            stream = b"".join(encode_command(command) for command in commands)
            subprocess.run(["redis-cli", *address, "--pipe"], input=stream, capture_output=True,
                           timeout=300, check=True)
            self.used.remove(name)

    def stop(self):
        self.stop_import_worker()
        super().stop()
        self.delete_records()


def encode_command(arguments):
    """Return one command in the Redis protocol (RESP), as redis-cli --pipe reads it."""
    parts = [b"*%d\r\n" % len(arguments)]
    for argument in arguments:
        data = argument if isinstance(argument, bytes) else str(argument).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def import_stack(context):
    """Return the run's import stack, started on first use and stopped when the run ends."""
    def start_stack():
        stack = ImportStack(context)
        try:
            return stack.start()
        except Exception:
            stack.stop()
            raise

    return context.resource("import-stack", start_stack)
