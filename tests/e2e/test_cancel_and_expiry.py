"""Cancel semantics (pending, running, racing completion) and reads after a job expired."""
import concurrent.futures
import contextlib
import signal
import time
import urllib.parse

from conftest import redis_cli
from test_import_export import export_records, generate


@contextlib.contextmanager
def stopped_workers(stack):
    """Stops the stack's workers, so jobs stay PENDING, and lets them go on afterwards."""
    for worker in stack.workers:
        worker.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for worker in stack.workers:
            worker.send_signal(signal.SIGCONT)


def path_of(url):
    return urllib.parse.urlsplit(url).path


def test_cancel_of_a_running_import_stops_it(fresh, tmp_path):
    client = fresh.client
    data, _ = generate(tmp_path, 200000, 21)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    location = path_of(response.header("Location"))
    job = client.wait(location, until=("PROCESSING",))
    while job["progress"]["rowsProcessed"] == 0 and job["status"] == "PROCESSING":
        job = client.get(location + "?wait=5").json()
    canceled = client.request("POST", location + "/cancel")
    assert canceled.status == 202, canceled.body
    assert canceled.json()["status"] == "CANCELED"
    # The worker stops within about a second; the counts then hold still.
    time.sleep(1.5)
    settled = client.get(location).json()
    time.sleep(1.5)
    final = client.get(location).json()
    assert final["status"] == "CANCELED"
    assert final["counts"] == settled["counts"]
    assert 0 < final["counts"]["rowsRead"] < 200000
    # The rows applied before the cancel stay, and the counts report exactly them.
    stored = export_records(client, ["email"])
    assert len(stored) == final["counts"]["created"]
    assert client.request("POST", location + "/cancel").status == 409


def test_cancel_of_a_pending_job_is_final(fresh):
    client = fresh.client
    # Every worker of the test run belongs to this stack, so the job stays PENDING.
    with stopped_workers(fresh):
        response = client.post_json("/v1/exports",
                                    {"objectType": "contacts", "properties": ["email"]})
        location = path_of(response.header("Location"))
        canceled = client.request("POST", location + "/cancel")
        assert canceled.status == 202
        assert canceled.json()["status"] == "CANCELED"
        assert canceled.json()["expiresAt"] is not None
    # The workers take the message and skip the job.
    time.sleep(3)
    job = client.get(location).json()
    assert job["status"] == "CANCELED"
    assert job["attempts"] == 0
    assert "startedAt" not in job


def test_cancel_racing_completion_ends_once(fresh):
    client = fresh.client
    data = b"email\n" + b"".join(b"r%d@example.com\n" % i for i in range(50))

    def race(delay):
        response = client.submit_import(data, {"objectType": "contacts"})
        location = path_of(response.header("Location"))
        time.sleep(delay)
        cancel = client.request("POST", location + "/cancel")
        job = client.wait(location)
        return cancel.status, job

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(race, [i * 0.02 for i in range(20)]))
    for status, job in outcomes:
        assert job["status"] in ("CANCELED", "DONE")
        # 202 means the cancel won; 409 means the job had finished first.
        assert status == (202 if job["status"] == "CANCELED" else 409), (status, job)
        time.sleep(0.05)
        assert client.get(job["links"]["self"]).json()["status"] == job["status"]


def test_result_of_an_expired_job_is_410(fresh):
    client = fresh.client
    response = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["email"]})
    job = client.wait(response.header("Location"))
    result = client.get(job["links"]["result"])
    assert result.status == 200
    url = result.json()["url"]
    # Retention ends: the store drops the job, as its TTL would.
    redis_cli("DEL", "jg:job:" + job["id"])
    gone = client.get(job["links"]["result"])
    assert gone.status == 410
    assert gone.json()["type"].endswith("/result-expired")
    assert client.get(url, authenticate=False).status == 410
    assert client.get(job["links"]["self"]).status == 404
    # Another tenant learns nothing about the id.
    other = fresh.new_client()
    assert other.get(job["links"]["result"]).status == 404


def test_cancel_through_the_jobs_collection(fresh):
    client = fresh.client
    with stopped_workers(fresh):
        response = client.post_json("/v1/exports",
                                    {"objectType": "contacts", "properties": ["email"]})
        job_id = response.json()["id"]
        canceled = client.request("POST", f"/v1/jobs/{job_id}/cancel")
    assert canceled.status == 202
    assert canceled.json()["status"] == "CANCELED"
    again = client.request("POST", f"/v1/jobs/{job_id}/cancel")
    assert again.status == 409
    assert again.json()["type"].endswith("/job-not-cancelable")
    assert client.request("POST", "/v1/jobs/nonsense/cancel").status == 404
    assert client.request("GET", f"/v1/jobs/{job_id}/cancel").status == 405
