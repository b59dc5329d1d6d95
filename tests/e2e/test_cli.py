"""The jobgate command-line client against a real gateway, workers, Redis and Kafka, and its
retries, TLS and polling against small local HTTP servers."""
import csv
import http.server
import io
import json
import os
import pty
import select
import ssl
import subprocess
import threading
import time

from conftest import BUILD

CLI = str(BUILD / "bin" / "jobgate")

CONTACTS = (
    "Email,First Name,City\r\n"
    "ana@example.com,Ana,Lima\r\n"
    "ben@example.com,Ben,Quito\r\n"
    "not-an-email,Cy,Oslo\r\n"
    "dee@example.com,Dee,Rome\r\n"
)


def environment(stack):
    env = dict(os.environ)
    env["JOBGATE_URL"] = stack.url
    env["JOBGATE_API_KEY"] = stack.api_key
    return env


def run_cli(stack, *arguments, timeout=120):
    return subprocess.run([CLI, *arguments], env=environment(stack), capture_output=True,
                          text=True, timeout=timeout)


def run_on_pty(stack, *arguments, timeout=120):
    """Runs the client with stdout and stderr on a pseudo-terminal and returns (status, output)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([CLI, *arguments], env=environment(stack), stdout=terminal,
                               stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed when the process ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    return process.wait(timeout=10), output.decode(errors="replace")


def write_contacts(tmp_path, text=CONTACTS, name="contacts.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_import_wait_prints_counts(fresh, tmp_path):
    path = write_contacts(tmp_path)
    done = run_cli(fresh, "import", path, "--object", "contacts", "--map", "Email=email",
                   "--map", "First Name=firstname", "--wait")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    job_id = lines[0]
    assert job_id.startswith("imp_"), done.stdout
    assert f"{job_id} DONE: 4 rows read, 3 created, 0 updated, 1 failed, 0 blank rows skipped" \
        in lines, done.stdout

    # Off a terminal the progress is plain lines, never redrawn in place.
    assert "\r" not in done.stdout
    assert "\x1b" not in done.stdout
    assert any(line.startswith(("PENDING", "PROCESSING", "DONE")) for line in lines), done.stdout

    errors = run_cli(fresh, "errors", job_id)
    assert errors.returncode == 0, errors.stderr
    assert errors.stdout.startswith("row 4: invalid_email in column Email, value 'not-an-email'")

    report = tmp_path / "errors.csv"
    written = run_cli(fresh, "errors", job_id, "-o", str(report))
    assert written.returncode == 0, written.stderr
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Email", "First Name", "City"]
    assert rows[1][:3] == ["not-an-email", "Cy", "Oslo"]
    assert len(rows) == 2


def test_failed_import_exits_with_reason(fresh, tmp_path):
    path = write_contacts(tmp_path)
    failed = run_cli(fresh, "import", path, "--object", "contacts", "--map", "Mail=email", "--wait")
    assert failed.returncode == 3, (failed.stdout, failed.stderr)
    last = failed.stdout.splitlines()[-1]
    assert " FAILED: " in last, failed.stdout
    assert "Mail" in last, failed.stdout


def test_problem_document_becomes_error(fresh, tmp_path):
    path = write_contacts(tmp_path)
    rejected = run_cli(fresh, "import", path, "--object", "contacts", "--map", "Email=e_mail")
    assert rejected.returncode == 1, rejected.stderr
    assert "(HTTP 400 unknown-property)" in rejected.stderr
    assert "e_mail" in rejected.stderr
    assert "invalid field /columnMappings/0/propertyName" in rejected.stderr
    assert rejected.stdout == ""

    missing = run_cli(fresh, "status", "imp_" + "0" * 32)
    assert missing.returncode == 1
    assert "(HTTP 404 job-not-found)" in missing.stderr


def test_usage_errors_exit_2(fresh):
    unknown = run_cli(fresh, "import", "x.csv")
    assert unknown.returncode == 2
    assert "--object is required" in unknown.stderr
    assert "Usage: jobgate import FILE" in unknown.stderr

    no_key = subprocess.run([CLI, "status", "imp_1"], env={"PATH": os.environ["PATH"]},
                            capture_output=True, text=True, timeout=30)
    assert no_key.returncode == 2
    assert "JOBGATE_API_KEY" in no_key.stderr

    help_text = run_cli(fresh, "export", "--help")
    assert help_text.returncode == 0
    assert help_text.stdout.startswith("Usage: jobgate export")


def test_download_of_import_names_kind(fresh, tmp_path):
    import_id = "imp_" + "0" * 32
    downloaded = run_cli(fresh, "download", import_id, "-o", str(tmp_path / "out.csv"))
    assert downloaded.returncode == 2, downloaded.stderr
    assert "is an import" in downloaded.stderr
    assert "only export jobs have a file to download" in downloaded.stderr
    assert f"jobgate errors {import_id} -o FILE" in downloaded.stderr
    assert "job-not-found" not in downloaded.stderr


def test_url_without_scheme_names_fix(fresh):
    address = fresh.url.removeprefix("http://")
    no_scheme = run_cli(fresh, "--url", address, "list")
    assert no_scheme.returncode == 2, no_scheme.stderr
    assert "must start with http:// or https://" in no_scheme.stderr
    assert "mismatch" not in no_scheme.stderr

    dashboard = run_cli(fresh, "--url", fresh.url + "/ui/", "list")
    assert dashboard.returncode == 2, dashboard.stderr
    assert f"use the gateway's base URL, such as '{fresh.url}'" in dashboard.stderr

    # The address bar of a dashboard page, copied as it is.
    dashboard_page = run_cli(fresh, "--url", fresh.url + "/ui/#/jobs", "list")
    assert dashboard_page.returncode == 2, dashboard_page.stderr
    assert "is the dashboard's address" in dashboard_page.stderr
    assert f"use the gateway's base URL, such as '{fresh.url}'" in dashboard_page.stderr
    assert "leftover" not in dashboard_page.stderr


def test_url_scheme_in_any_case(fresh):
    address = fresh.url.removeprefix("http://")
    for scheme in ("HTTP://", "Http://"):
        listed = run_cli(fresh, "--url", scheme + address, "list")
        assert listed.returncode == 0, f"{scheme}: {listed.stderr}"


def test_json_output_parses(fresh, tmp_path):
    path = write_contacts(tmp_path)
    submitted = run_cli(fresh, "import", path, "--object", "contacts", "--json", "--wait")
    assert submitted.returncode == 0, submitted.stderr
    job = json.loads(submitted.stdout)
    assert job["status"] == "DONE"
    assert job["counts"]["created"] == 3

    status = run_cli(fresh, "status", job["id"], "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["id"] == job["id"]

    listed = run_cli(fresh, "list", "--kind", "imports", "--status", "DONE", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [entry["id"] for entry in json.loads(listed.stdout)["results"]] == [job["id"]]

    errors = run_cli(fresh, "errors", job["id"], "--json")
    assert errors.returncode == 0, errors.stderr
    report = json.loads(errors.stdout)
    assert report["total"] == 1
    assert report["results"][0]["kind"] == "invalid_email"

    finished = run_cli(fresh, "cancel", job["id"])
    assert finished.returncode == 1
    assert "job-not-cancelable" in finished.stderr
    assert "jobStatus: DONE" in finished.stderr


def test_export_wait_writes_file(fresh, tmp_path):
    imported = run_cli(fresh, "import", write_contacts(tmp_path), "--object", "contacts", "--wait")
    assert imported.returncode == 0, imported.stderr

    output = tmp_path / "contacts-out.csv"
    exported = run_cli(fresh, "export", "--object", "contacts", "--properties", "email,firstname",
                       "--wait", "-o", str(output))
    assert exported.returncode == 0, exported.stderr
    assert f"wrote {output.stat().st_size:,} bytes to {output}" in exported.stdout
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert sorted((row["email"], row["firstname"]) for row in rows) == [
        ("ana@example.com", "Ana"), ("ben@example.com", "Ben"), ("dee@example.com", "Dee")]
    assert not (tmp_path / "contacts-out.csv.part").exists()

    ndjson = tmp_path / "contacts.ndjson"
    exported = run_cli(fresh, "export", "--object", "contacts", "--properties", "email",
                       "--format", "ndjson", "-o", str(ndjson))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in ndjson.read_text().splitlines()]
    assert sorted(line["email"] for line in lines) == [
        "ana@example.com", "ben@example.com", "dee@example.com"]

    export_id = exported.stdout.splitlines()[0]
    again = tmp_path / "again.ndjson"
    downloaded = run_cli(fresh, "download", export_id, "-o", str(again))
    assert downloaded.returncode == 0, downloaded.stderr
    assert again.read_bytes() == ndjson.read_bytes()


def test_terminal_shows_redrawn_bar(fresh, tmp_path):
    rows = "".join(f"p{index}@example.com,P{index}\r\n" for index in range(20000))
    path = write_contacts(tmp_path, "Email,First Name\r\n" + rows, "many.csv")
    status, output = run_on_pty(fresh, "import", path, "--object", "contacts", "--wait")
    assert status == 0, output
    assert "\r" in output.replace("\r\n", "")
    assert "\x1b[K" in output
    assert "uploading [" in output
    assert "] 100.0%" in output
    assert "DONE: 20,000 rows read, 20,000 created" in output


def test_wait_and_cancel(fresh, tmp_path):
    rows = "".join(f"q{index}@example.com\r\n" for index in range(200000))
    path = write_contacts(tmp_path, "Email\r\n" + rows, "large.csv")
    submitted = run_cli(fresh, "import", path, "--object", "contacts")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()

    canceled = run_cli(fresh, "cancel", job_id)
    if canceled.returncode == 0:
        assert canceled.stdout.strip() == f"{job_id} CANCELED"
        waited = run_cli(fresh, "wait", job_id)
        assert waited.returncode == 4, waited.stdout
        assert f"{job_id} CANCELED: " in waited.stdout
    else:
        # The worker finished first: the job is DONE and cannot be canceled.
        assert "job-not-cancelable" in canceled.stderr


class FlakyGateway(http.server.BaseHTTPRequestHandler):
    """Returns 503 to the first POST /v1/exports and 202 to the next, recording each request."""

    requests = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FlakyGateway.requests.append((dict(self.headers), body))
        if len(FlakyGateway.requests) == 1:
            self.respond(503, {"type": "https://jobgate.dev/problems/service-unavailable",
                               "title": "A dependency is unavailable", "status": 503},
                         "application/problem+json", {"Retry-After": "1"})
        else:
            self.respond(202, {"id": "exp_" + "1" * 32, "status": "PENDING"}, "application/json",
                         {})

    def respond(self, status, document, content_type, headers):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass


def test_retry_reuses_idempotency_key():
    server = start_flaky_gateway()
    try:
        done = subprocess.run(
            [CLI, "export", "--object", "contacts", "--properties", "email", "--url",
             f"http://127.0.0.1:{server.server_port}", "--api-key", "key"],
            env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "exp_" + "1" * 32 + "\n"
    assert "the gateway returned HTTP 503; retrying in 1 s (attempt 2 of 5)" in done.stderr
    assert len(FlakyGateway.requests) == 2
    first, second = (headers for headers, _ in FlakyGateway.requests)
    assert first["Idempotency-Key"]
    assert first["Idempotency-Key"] == second["Idempotency-Key"]
    assert first["Authorization"] == "Bearer key"
    assert json.loads(FlakyGateway.requests[1][1]) == {"objectType": "contacts",
                                                       "properties": ["email"]}


def start_flaky_gateway(tls_directory=None):
    """Starts FlakyGateway on a free loopback port, with TLS when given a certificate directory."""
    FlakyGateway.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), FlakyGateway)
    if tls_directory is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_directory / "cert.pem", tls_directory / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_https_checks_certificate(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    server = start_flaky_gateway(tmp_path)
    url = f"https://127.0.0.1:{server.server_port}"
    command = [CLI, "export", "--object", "contacts", "--properties", "email", "--url", url,
               "--api-key", "key"]
    try:
        # OpenSSL's default verify paths include SSL_CERT_FILE.
        trusted = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                 env={"PATH": os.environ["PATH"],
                                      "SSL_CERT_FILE": str(tmp_path / "cert.pem")})
        untrusted = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                   env={"PATH": os.environ["PATH"],
                                        "SSL_CERT_FILE": str(tmp_path / "missing.pem")})
    finally:
        server.shutdown()
        server.server_close()
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout == "exp_" + "1" * 32 + "\n"
    assert len(FlakyGateway.requests) == 2
    assert untrusted.returncode == 1
    assert "TLS handshake" in untrusted.stderr
    assert "certificate verify failed" in untrusted.stderr
    assert "retrying" not in untrusted.stderr


def test_oversized_upload_shows_problem(make_stack, tmp_path):
    small = make_stack({"JOBGATE_MAX_UPLOAD_BYTES": 100000})
    small.new_client()
    rows = "".join(f"r{index}@example.com\r\n" for index in range(200000))
    path = write_contacts(tmp_path, "Email\r\n" + rows, "big.csv")
    rejected = run_cli(small, "import", path, "--object", "contacts")
    assert rejected.returncode == 1, rejected.stderr
    assert "(HTTP 413 upload-too-large)" in rejected.stderr
    assert "maxBytes: 100000" in rejected.stderr


class PollingGateway(http.server.BaseHTTPRequestHandler):
    """Has no event stream, so clients poll: the job is PROCESSING twice, then DONE."""

    polls = 0

    def do_GET(self):
        if self.path.endswith("/events"):
            self.respond(501, b"", {})
            return
        PollingGateway.polls += 1
        done = PollingGateway.polls > 2
        job = {"id": "imp_" + "2" * 32, "status": "DONE" if done else "PROCESSING",
               "progress": {"rowsProcessed": 10 * PollingGateway.polls, "rowsTotal": 30},
               "counts": {"rowsRead": 30, "created": 30, "updated": 0, "failed": 0,
                          "skippedBlank": 0}}
        self.respond(200, json.dumps(job).encode(), {} if done else {"Retry-After": "1"})

    def respond(self, status, data, headers):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass


def test_wait_polls_without_event_stream():
    PollingGateway.polls = 0
    server = http.server.HTTPServer(("127.0.0.1", 0), PollingGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        waited = subprocess.run(
            [CLI, "wait", "imp_" + "2" * 32, "--url", f"http://127.0.0.1:{server.server_port}",
             "--api-key", "key"],
            env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert waited.returncode == 0, waited.stderr
    assert PollingGateway.polls == 3
    assert elapsed >= 2  # Retry-After: 1 between the three polls
    assert waited.stdout.splitlines() == [
        "PROCESSING 10/30 rows (33.3%)",
        "DONE 30/30 rows (100.0%)",
        "imp_" + "2" * 32 + " DONE: 30 rows read, 30 created, 0 updated, 0 failed, "
        "0 blank rows skipped"]


def test_errors_follow_every_page(fresh, tmp_path):
    rows = "".join(f"bad{index},B{index}\r\n" for index in range(450))
    path = write_contacts(tmp_path, "Email,First Name\r\nok@example.com,Ok\r\n" + rows, "bad.csv")
    done = run_cli(fresh, "import", path, "--object", "contacts", "--wait")
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.splitlines()[0]

    listed = run_cli(fresh, "errors", job_id)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 450
    assert lines[0].startswith("row 3: invalid_email in column Email, value 'bad0'")
    assert lines[-1].startswith("row 452: invalid_email in column Email, value 'bad449'")

    report = run_cli(fresh, "errors", job_id, "--json")
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["jobId"] == job_id
    assert document["total"] == 450
    assert [entry["row"] for entry in document["results"]] == list(range(3, 453))
