"""Submit throughput and latency: POST /v1/exports with a small JSON body, under wrk, next to
nginx and a bare Beast server responding 202 with a body and Location header of the same size."""
import json

from ..references.http_responder import BeastResponder, HttpResponder
from ..results import Result
from ..stack import EXPORT_BODY
from .http_load import measure_levels

NAME = "submit"


def run(context):
    stack = context.stack()
    # Workers stay stopped, so the gateway is measured alone, as the responder is.
    stack.set_workers(0)
    facts = context.submit_facts()
    body = json.dumps(EXPORT_BODY, separators=(",", ":"))
    scenario = Result(NAME, "scenario",
                      "POST /v1/exports with a small export request over keep-alive connections "
                      "(wrk, 2 threads); the gateway validates, creates the job in Redis, "
                      "produces to Kafka with acks=all and responds with 202.",
                      {"body_bytes": len(body), "workers_running": 0})
    reference = Result("responder-202", "reference",
                       "nginx responding to every request with 202, a body of the same size as the "
                       "gateway's 202 body and Location and Retry-After headers of the same size, "
                       "loaded with the same wrk script and connection counts.",
                       {"body_bytes": facts["accepted_body_bytes"]})
    beast_reference = Result("beast-202", "reference",
                             "jobgate-bench-responder, a Beast server with the gateway's threads and "
                             "connection handling and no other work, responding to every request "
                             "with the same status, body size and headers as the nginx responder.",
                             {"body_bytes": facts["accepted_body_bytes"]})
    location = facts["location_header"]
    headers = {
        "Location": "/" + "x" * max(0, len(location) - 1),
        "Retry-After": facts["retry_after_header"] or "1",
    }
    responder = HttpResponder(202, facts["accepted_body_bytes"], headers).start()
    beast = None
    try:
        beast = BeastResponder(stack.binary("jobgate-bench-responder"), 202,
                               facts["accepted_body_bytes"], headers).start()
        targets = [
            ("gateway", f"http://127.0.0.1:{stack.port}",
             {"path": "/v1/exports", "api_key": stack.api_key, "body": body}, scenario),
            ("responder", responder.url,
             {"path": "/v1/exports", "api_key": stack.api_key, "body": body}, reference),
            ("beast", beast.url,
             {"path": "/v1/exports", "api_key": stack.api_key, "body": body}, beast_reference),
        ]
        measure_levels(context, targets, [scenario, reference, beast_reference], NAME)
    finally:
        responder.stop()
        if beast is not None:
            beast.stop()
    return [scenario, reference, beast_reference]
