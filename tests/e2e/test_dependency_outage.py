"""The gateway without a reachable Kafka: 503 with Retry-After at once, and a 503 from /readyz."""
import time

from conftest import free_port


def test_kafka_outage_fails_fast_and_shows_in_readiness(make_stack):
    down = make_stack({"JOBGATE_KAFKA_BROKERS": f"127.0.0.1:{free_port()}"}, worker_count=0)
    client = down.new_client()
    # The broker probe runs every two seconds, gives up on a broker after 1.5 s, and reports the
    # queue unreachable after two failed probes in a row.
    deadline = time.monotonic() + 15
    while client.request("GET", "/readyz").status != 503:
        assert time.monotonic() < deadline, "readiness never reported the missing broker"
        time.sleep(0.2)
    ready = client.request("GET", "/readyz")
    assert ready.header("Retry-After") == "5"
    assert ready.json()["type"].endswith("/service-unavailable")

    started = time.monotonic()
    response = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["email"]})
    assert time.monotonic() - started < 2
    assert response.status == 503
    assert response.header("Retry-After") == "5"
    assert response.json()["type"].endswith("/service-unavailable")
    # No job was left behind.
    assert client.get("/v1/jobs").json()["results"] == []
    assert client.request("GET", "/healthz").status == 200
