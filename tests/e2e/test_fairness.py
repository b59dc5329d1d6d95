"""Running-jobs caps per tenant: a tenant over its cap waits in its own queue, and other tenants'
jobs keep flowing."""
import re
import time

from test_cancel_and_expiry import path_of
from test_import_export import generate
from test_long_jobs import client_time, wait_for_assignments

# One row per batch slows each import down. Two workers with two import slots each,
# and a cap of two running imports per tenant.
SETTINGS = {"JOBGATE_BATCH_ROWS": 1, "JOBGATE_CONCURRENCY": 2, "JOBGATE_RUNNING_IMPORTS": 2,
            "JOBGATE_MAX_UPLOAD_BYTES": 64 * 1024 * 1024}
FLOOD = 50
ROWS = 20000


def imports_with_status(client, status):
    page = client.get(f"/v1/imports?status={status}&limit=100")
    assert page.status == 200, page.body
    return page.json()["results"]


def deferred_gauge(client, tenant):
    metrics = client.get("/metrics", authenticate=False).body.decode()
    found = re.search(r'^jobgate_jobs_deferred\{kind="imports",tenant="' + tenant + r'"\} (\d+)',
                      metrics, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_flooding_tenant_waits_and_others_flow(make_stack, tmp_path):
    stack = make_stack(SETTINGS, worker_count=2)
    flooder = stack.new_client()
    flooder_tenant = stack.tenant
    other = stack.new_client()
    data, expected = generate(tmp_path, ROWS, 47)
    wait_for_assignments(stack)

    flood = []
    for _ in range(FLOOD):
        response = flooder.submit_import(data, {"objectType": "contacts"})
        assert response.status == 202, response.body
        flood.append(path_of(response.header("Location")))
    response = other.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    other_location = response.header("Location")

    max_running = 0
    waiting_seen = None
    deferred_seen = 0
    flooder_done = None
    other_job = {"status": "not read"}
    deadline = time.monotonic() + 120
    while True:
        max_running = max(max_running, len(imports_with_status(flooder, "PROCESSING")))
        if waiting_seen is None:
            waiting = flooder.get(flood[-1]).json()
            if waiting["status"] == "PENDING" and "queuePosition" in waiting:
                waiting_seen = waiting
        deferred_seen = max(deferred_seen, deferred_gauge(flooder, flooder_tenant))
        if flooder_done is None:
            other_job = other.get(other_location).json()
            if other_job["status"] in ("DONE", "FAILED", "CANCELED"):
                flooder_done = len(imports_with_status(flooder, "DONE"))
        # A waiting import shows its queue position only once a worker has read its message, and
        # that can happen after the other tenant's import has ended.
        if flooder_done is not None and waiting_seen is not None and deferred_seen >= FLOOD // 2:
            break
        assert time.monotonic() < deadline, (
            f"after 120 s: other tenant's import {other_job['status']}, waiting import seen "
            f"{waiting_seen is not None}, most deferred {deferred_seen}")
        time.sleep(0.1)

    assert other_job["status"] == "DONE", other_job
    assert other_job["counts"] == expected["counts"]
    # The other tenant's import waits at most for one import that runs on its partition's consumer.
    finished = [flooder.get(location).json() for location in flood[:flooder_done + 2]]
    durations = [client_time(job["completedAt"]) - client_time(job["startedAt"])
                 for job in finished if job["status"] == "DONE"]
    assert durations, "no import of the flooding tenant finished"
    one_job_ms = max(durations)
    waited_ms = client_time(other_job["completedAt"]) - client_time(other_job["createdAt"])
    print(f"other tenant: {waited_ms} ms from submit to DONE; flooding tenant's imports took "
          f"{durations} ms; {flooder_done} of them done by then")
    assert waited_ms <= 2 * one_job_ms + 2000, (waited_ms, durations)
    assert flooder_done <= 10, f"{flooder_done} imports of the flooding tenant ran first"
    assert max_running <= 2

    assert waiting_seen is not None, "no waiting import showed its queue position"
    assert waiting_seen["queuePosition"] >= 1
    assert "limit of 2 running imports" in waiting_seen["statusDescription"]
    assert deferred_seen >= FLOOD // 2
    # A job list shows the queue position of each waiting import too.
    listed = [job for job in imports_with_status(flooder, "PENDING") if "queuePosition" in job]
    assert listed, "no waiting import in the job list showed its queue position"
    for job in listed:
        assert job["queuePosition"] >= 1, job
        assert f"number {job['queuePosition']} in the tenant's queue" in job["statusDescription"]

    # Canceled waiting imports never run, and the queue and its gauge empty.
    for location in flood:
        canceled = flooder.request("POST", location + "/cancel")
        assert canceled.status in (202, 409), canceled.body
    deadline = time.monotonic() + 60
    while imports_with_status(flooder, "PROCESSING") or imports_with_status(flooder, "PENDING"):
        assert time.monotonic() < deadline, "imports of the flooding tenant still active"
        time.sleep(0.2)
    assert deferred_gauge(flooder, flooder_tenant) == 0
    time.sleep(1)
    statuses = [flooder.get(location).json()["status"] for location in flood]
    assert statuses.count("CANCELED") >= FLOOD - 12
    assert set(statuses) <= {"DONE", "CANCELED"}
