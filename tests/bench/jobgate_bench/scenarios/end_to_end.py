"""End-to-end latency: from sending POST /v1/exports to the "end" event of the job's SSE stream
(GET /v1/jobs/{id}/events) reporting DONE, one trivial export at a time."""
import http.client
import json
import time

from ..results import Result, percentile

NAME = "end-to-end"
WORKERS = 2


def wait_for_end(port, api_key, job_path, timeout=30):
    """Follow the job's event stream until its end event; return the time and final status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", job_path + "/events",
                           headers={"Authorization": f"Bearer {api_key}",
                                    "Accept": "text/event-stream"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {job_path}/events returned {response.status}")
        ended_at = None
        while True:
            line = response.readline()
            if not line:
                raise RuntimeError(f"event stream of {job_path} closed before its end event")
            if line.startswith(b"event: end"):
                ended_at = time.monotonic()
            elif ended_at is not None and line.startswith(b"data: "):
                return ended_at, json.loads(line[len(b"data: "):])["status"]
    finally:
        connection.close()


def one_job(stack, connection):
    started = time.monotonic()
    _, job_path, _ = connection.submit_export()
    accepted = time.monotonic()
    ended, status = wait_for_end(stack.port, stack.api_key, job_path)
    if status != "DONE":
        raise RuntimeError(f"{job_path} ended as {status}, expected DONE")
    return (accepted - started) * 1000, (ended - started) * 1000


def run(context):
    stack = context.stack()
    sizes = context.sizes
    stack.set_workers(WORKERS)
    result = Result(NAME, "scenario",
                    "One trivial export (a tenant without records) at a time: the time from "
                    "sending POST /v1/exports to receiving the SSE end event with status DONE; "
                    f"{WORKERS} workers with default concurrency.",
                    {"jobs_per_repetition": sizes.e2e_jobs, "workers": WORKERS})
    entry = result.measurement("gateway", f"{sizes.e2e_jobs} jobs", {"jobs": sizes.e2e_jobs})
    connection = stack.connection()
    for _ in range(sizes.e2e_warmup_jobs):
        one_job(stack, connection)
    for repetition in range(sizes.repetitions):
        submit_ms, done_ms = [], []
        for _ in range(sizes.e2e_jobs):
            accepted, ended = one_job(stack, connection)
            submit_ms.append(accepted)
            done_ms.append(ended)
        metrics = {"p50_ms": percentile(done_ms, 0.50), "p99_ms": percentile(done_ms, 0.99),
                   "max_ms": max(done_ms), "submit_p50_ms": percentile(submit_ms, 0.50),
                   "submit_p99_ms": percentile(submit_ms, 0.99)}
        entry.add_run(metrics)
        context.log(f"{NAME} #{repetition + 1}: p50 {metrics['p50_ms']:.1f} ms, "
                    f"p99 {metrics['p99_ms']:.1f} ms (submit p50 {metrics['submit_p50_ms']:.1f} ms)")
    connection.close()
    return [result]
