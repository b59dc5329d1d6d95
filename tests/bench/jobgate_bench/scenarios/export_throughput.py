"""Export throughput: POST /v1/exports of all contacts of a tenant that one import filled, with one
worker that runs exports. The clock runs from the submit to the SSE end event. Then the file is
downloaded through the signed link and its records are counted."""
import csv
import http.client
import io
import time
import urllib.parse

from ..import_stack import CONTACT_PROPERTIES, contacts_csv, import_stack, parse_timestamp
from ..results import Result

NAME = "export"


def imported_tenant(context, stack, rows):
    """Return (tenant, records) of an import of the rows-row CSV, importing it when the import
    scenario did not."""
    if rows not in stack.imported:
        context.log(f"{NAME}: importing {rows} rows to export them")
        stack.ensure_import_worker(context)
        stack.wait_until_idle("imports")
        tenant, _, job = stack.import_file(contacts_csv(context, rows), rows)
        stack.imported[rows] = (tenant, job)
    tenant, job = stack.imported[rows]
    return tenant, job["counts"]["created"]


def count_download(url, timeout=600):
    """GET the signed download link and return (data records in the CSV, bytes, seconds)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        started = time.monotonic()
        connection.request("GET", f"{parsed.path}?{parsed.query}")
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {parsed.path} returned {response.status}: "
                               f"{response.read(300)!r}")
        counted = _CountingReader(response)
        text = io.TextIOWrapper(io.BufferedReader(counted), encoding="utf-8", newline="")
        records = sum(1 for _ in csv.reader(text))
        return records - 1, counted.bytes, time.monotonic() - started
    finally:
        connection.close()


class _CountingReader(io.RawIOBase):
    """A readable stream over an HTTP response that counts the bytes read."""

    def __init__(self, response):
        self.response = response
        self.bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.response.read(len(buffer))
        buffer[:len(data)] = data
        self.bytes += len(data)
        return len(data)


def export_once(tenant, records):
    submitted = time.monotonic()
    job_id = tenant.submit_export(CONTACT_PROPERTIES)
    ended, job = tenant.wait_for_job(job_id)
    seconds = ended - submitted
    worker_seconds = parse_timestamp(job["completedAt"]) - parse_timestamp(job["startedAt"])
    result = tenant.get_json(f"/v1/exports/{job_id}/result")
    downloaded, size, download_seconds = count_download(result["url"])
    if not result["rows"] == downloaded == records:
        raise RuntimeError(f"export {job_id}: the result names {result['rows']} rows and the file "
                           f"has {downloaded} records, expected the {records} imported records")
    if size != result["bytes"]:
        raise RuntimeError(f"export {job_id}: downloaded {size} bytes, the result names "
                           f"{result['bytes']}")
    return {"rows_per_s": records / seconds, "seconds": seconds,
            "worker_rows_per_s": records / worker_seconds if worker_seconds > 0 else 0.0,
            "worker_seconds": worker_seconds, "file_bytes": size,
            "download_s": download_seconds}


def run(context):
    sizes = context.sizes
    stack = import_stack(context)
    result = Result(NAME, "scenario",
                    "POST /v1/exports of all records of a tenant that one import scenario "
                    f"repetition filled, {len(CONTACT_PROPERTIES)} properties as CSV, with one "
                    "worker running exports with its default settings. rows_per_s counts the "
                    "exported rows from the submit to the SSE end event, and worker_rows_per_s "
                    "over the job's startedAt to completedAt. Each file is then downloaded "
                    "through the signed link and must contain exactly the imported records.",
                    {"properties": CONTACT_PROPERTIES})
    tenants = [(rows, repetitions, *imported_tenant(context, stack, rows))
               for rows, repetitions in zip(sizes.export_rows, sizes.export_repetitions)]
    stack.stop_import_worker()
    # Exports of other parts of the run would share the worker, so they finish first.
    stack.set_workers(1)
    stack.wait_until_idle("exports")
    # A tenant without records: the export is trivial and shows that the worker joined its group.
    export_once(stack.new_tenant(), 0)
    for rows, repetitions, tenant, records in tenants:
        entry = result.measurement("gateway", f"{records} records",
                                   {"imported_rows": rows, "records": records})
        for repetition in range(repetitions):
            metrics = export_once(tenant, records)
            entry.add_run(metrics)
            context.log(f"{NAME} {records} records #{repetition + 1}: "
                        f"{metrics['rows_per_s']:.0f} rows/s ({metrics['seconds']:.2f} s, worker "
                        f"{metrics['worker_seconds']:.2f} s), {metrics['file_bytes'] / 1e6:.1f} MB")
    stack.set_workers(0)
    return [result]
