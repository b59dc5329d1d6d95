"""Gateway memory during a streamed import upload: POST /v1/imports with a large contacts CSV that
the client generates while it sends, to a gateway started for this scenario alone. The peak comes
from VmHWM of /proc/PID/status, reset after a warm-up import, next to VmRSS sampled every 50 ms."""
import http.client
import json
import pathlib
import secrets
import time

from ..process_memory import RssSampler, read_memory_kb, reset_peak, settled_rss_kb, to_mb
from ..results import Result
from ..stack import Stack

NAME = "upload-memory"
# The gateway's default max-upload-bytes (gateway/gateway_config.hpp). It limits the whole
# multipart body, so a 1 GiB file needs a higher limit.
DEFAULT_MAX_UPLOAD_BYTES = 1 << 30
CSV_HEADER = b"email,firstname,lastname\r\n"
ROWS_PER_BLOCK = 16384
WARMUP_FILE_BYTES = 64 * 1024
IMPORT_REQUEST = {"name": "bench upload", "objectType": "contacts"}
MIB = 1024 * 1024


def csv_block():
    """Return ROWS_PER_BLOCK fixed-width contact rows, about 850 KiB."""
    rows = [f"user{n:08d}@example.com,First{n:08d},Last{n:08d}\r\n"
            for n in range(ROWS_PER_BLOCK)]
    return "".join(rows).encode()


class StreamedImport:
    """A multipart import body whose CSV file part is the header followed by the same block of
    rows repeated until it reaches at least file_bytes, produced while it is sent."""

    def __init__(self, file_bytes, block):
        self.block = block
        self.blocks = max(1, -(-(file_bytes - len(CSV_HEADER)) // len(block)))
        self.file_bytes = len(CSV_HEADER) + self.blocks * len(block)
        self.boundary = "jobgate-bench-" + secrets.token_hex(8)
        request = json.dumps(IMPORT_REQUEST, separators=(",", ":"))
        self.prefix = (
            f"--{self.boundary}\r\n"
            'Content-Disposition: form-data; name="importRequest"\r\n'
            "Content-Type: application/json\r\n\r\n"
            f"{request}\r\n"
            f"--{self.boundary}\r\n"
            'Content-Disposition: form-data; name="files"; filename="contacts.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode()
        self.suffix = f"\r\n--{self.boundary}--\r\n".encode()
        self.body_bytes = len(self.prefix) + self.file_bytes + len(self.suffix)

    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"

    def chunks(self):
        yield self.prefix + CSV_HEADER
        for _ in range(self.blocks):
            yield self.block
        yield self.suffix


def post_import(stack, upload, timeout=600):
    """Send upload as POST /v1/imports and return (status, body, seconds until the response,
    seconds until the last byte was sent)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=timeout)
    try:
        started = time.monotonic()
        connection.putrequest("POST", "/v1/imports")
        connection.putheader("Authorization", f"Bearer {stack.api_key}")
        connection.putheader("Content-Type", upload.content_type())
        connection.putheader("Content-Length", str(upload.body_bytes))
        connection.endheaders()
        try:
            for chunk in upload.chunks():
                connection.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            # The gateway rejected the body early and closed. Its response may still be readable.
            pass
        sent = time.monotonic()
        response = connection.getresponse()
        payload = response.read()
        answered = time.monotonic()
        return response.status, payload, answered - started, sent - started
    finally:
        connection.close()


def discard_import(stack, job_id):
    """Cancel the import so that no worker runs it, and delete its uploaded file."""
    connection = stack.connection()
    try:
        status, _, payload = connection.request("POST", f"/v1/jobs/{job_id}/cancel")
    finally:
        connection.close()
    if status != 202:
        raise RuntimeError(f"POST /v1/jobs/{job_id}/cancel returned {status}: {payload[:300]!r}")
    blob = stack.blob_dir / stack.tenant / "imports" / f"{job_id}.csv"
    blob.unlink(missing_ok=True)


def warm_up(stack, block, attempts=10):
    """Submit one small import, so the Kafka producer is connected before the measured upload.
    A 503 is retried after its Retry-After, as Connection.submit_export() does."""
    for _ in range(attempts):
        status, payload, _, _ = post_import(stack, StreamedImport(WARMUP_FILE_BYTES, block))
        if status != 503:
            break
        time.sleep(1.0)
    if status != 202:
        raise RuntimeError(f"warm-up POST /v1/imports returned {status}: {payload[:300]!r}")
    discard_import(stack, json.loads(payload)["id"])


def measure_upload(context, file_bytes):
    block = csv_block()
    upload = StreamedImport(file_bytes, block)
    limit = max(DEFAULT_MAX_UPLOAD_BYTES, upload.body_bytes + MIB)
    stack = Stack(context.build_dir, pathlib.Path(context.workdir) / NAME, context.redis_url,
                  context.brokers)
    stack.env["JOBGATE_MAX_UPLOAD_BYTES"] = str(limit)
    # A 1 GB file has more rows than the default max-rows-per-file, and 0 turns that limit off.
    stack.env["JOBGATE_MAX_ROWS_PER_FILE"] = "0"
    # No worker runs in this stack, so nothing imports the uploaded file.
    context.log(f"{NAME}: starting a gateway of its own, max-upload-bytes {limit}")
    stack.start()
    try:
        pid = stack.gateway.pid
        warm_up(stack, block)
        time.sleep(0.5)
        reset_peak(pid)
        baseline_kb = settled_rss_kb(pid)

        with RssSampler(pid) as sampler:
            status, payload, seconds, send_seconds = post_import(stack, upload)
        after = read_memory_kb(pid)
        if status != 202:
            raise RuntimeError(f"POST /v1/imports of {upload.body_bytes} bytes returned {status}: "
                               f"{payload[:300]!r}")
        discard_import(stack, json.loads(payload)["id"])
    finally:
        stack.stop()
    leftovers = [path.name for path in stack.blob_dir.rglob("*") if path.is_file()]
    if leftovers:
        raise RuntimeError(f"files left in the blob directory after the upload: {leftovers}")

    metrics = {
        "status": status,
        "baseline_rss_mib": to_mb(baseline_kb),
        "peak_rss_mib": to_mb(after["VmHWM"]),
        "sampled_max_rss_mib": to_mb(sampler.max_rss_kb),
        "sampled_max_anon_mib": to_mb(sampler.max_anon_kb),
        "rss_after_mib": to_mb(after["VmRSS"]),
        "samples": sampler.samples,
        "seconds": seconds,
        "send_seconds": send_seconds,
        "upload_mib_per_s": upload.body_bytes / MIB / seconds if seconds > 0 else 0.0,
    }
    parameters = {"file_bytes": upload.file_bytes, "body_bytes": upload.body_bytes,
                  "max_upload_bytes": limit, "rows_per_repeated_block": ROWS_PER_BLOCK,
                  "block_bytes": len(block)}
    return metrics, parameters


def run(context):
    file_bytes = context.sizes.upload_bytes
    metrics, parameters = measure_upload(context, file_bytes)
    result = Result(NAME, "scenario",
                    "POST /v1/imports of a contacts CSV streamed by the client (a header, then "
                    "one block of fixed-width rows sent repeatedly) to a gateway started for this "
                    "scenario, without workers. The peak is VmHWM of /proc/PID/status, reset after "
                    "a warm-up import; VmRSS and RssAnon are also sampled every 50 ms. Throughput "
                    "counts the whole multipart body up to the 202 response, which comes after "
                    "the gateway's fsync of the file.",
                    parameters)
    entry = result.measurement("gateway", f"{file_bytes / MIB:.0f} MiB upload", parameters)
    entry.add_run(metrics)
    context.log(f"{NAME}: {parameters['body_bytes'] / MIB:.0f} MiB in {metrics['seconds']:.1f} s "
                f"({metrics['upload_mib_per_s']:.0f} MiB/s), status {metrics['status']}, RSS "
                f"baseline {metrics['baseline_rss_mib']:.1f} MiB, peak (VmHWM) "
                f"{metrics['peak_rss_mib']:.1f} MiB, sampled max {metrics['sampled_max_rss_mib']:.1f}"
                f" MiB")
    return [result]
