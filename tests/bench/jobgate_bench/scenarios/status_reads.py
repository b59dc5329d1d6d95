"""Status reads: GET /v1/jobs/{id} of finished jobs under wrk, next to nginx and a bare Beast server
responding 200 with a body of the same size."""
import pathlib
import statistics

from ..references.http_responder import BeastResponder, HttpResponder
from ..results import Result
from .http_load import measure_levels

NAME = "status-reads"


def run(context):
    stack = context.stack()
    sizes = context.sizes
    stack.set_workers(2)
    connection = stack.connection()
    ids = [connection.submit_export()[0] for _ in range(sizes.status_jobs)]
    stack.wait_until_drained(sizes.drain_timeout_s)
    body_sizes = []
    for job_id in ids[:20]:
        status, _, payload = connection.request("GET", f"/v1/jobs/{job_id}")
        if status != 200 or b'"DONE"' not in payload:
            raise RuntimeError(f"GET /v1/jobs/{job_id} returned {status}: {payload[:300]!r}")
        body_sizes.append(len(payload))
    connection.close()
    # Workers stay stopped during the load, so the gateway is measured alone.
    stack.set_workers(0)
    ids_file = pathlib.Path(context.workdir) / "status-ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    body_bytes = int(statistics.median(body_sizes))

    scenario = Result(NAME, "scenario",
                      "GET /v1/jobs/{id} of DONE export jobs, the ids taken in turn, over "
                      "keep-alive connections (wrk, 2 threads). The first read of a job sends HGETALL "
                      "and PTTL to Redis, and the gateway's job read cache serves the later ones.",
                      {"jobs": len(ids), "body_bytes": body_bytes, "workers_running": 0})
    reference = Result("responder-200", "reference",
                       "nginx responding to every request with 200 and a body of the same size as a "
                       "status read, loaded with the same wrk script and connection counts.",
                       {"body_bytes": body_bytes})
    beast_reference = Result("beast-200", "reference",
                             "jobgate-bench-responder, a Beast server with the gateway's threads and "
                             "connection handling and no other work, responding to every request "
                             "with 200 and a body of the same size as a status read.",
                             {"body_bytes": body_bytes})
    responder = HttpResponder(200, body_bytes).start()
    beast = None
    try:
        beast = BeastResponder(stack.binary("jobgate-bench-responder"), 200, body_bytes).start()
        targets = [
            ("gateway", f"http://127.0.0.1:{stack.port}",
             {"path": "/v1/jobs/", "api_key": stack.api_key, "ids_file": ids_file}, scenario),
            ("responder", responder.url,
             {"path": "/v1/jobs/", "api_key": stack.api_key, "ids_file": ids_file}, reference),
            ("beast", beast.url,
             {"path": "/v1/jobs/", "api_key": stack.api_key, "ids_file": ids_file},
             beast_reference),
        ]
        measure_levels(context, targets, [scenario, reference, beast_reference], NAME)
    finally:
        responder.stop()
        if beast is not None:
            beast.stop()
    return [scenario, reference, beast_reference]
