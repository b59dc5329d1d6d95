"""A worker killed in the middle of an import: the job still ends DONE, exactly once."""
import signal
import time

from test_import_export import MAPPED, export_records, generate


def test_sigkill_mid_import_resumes_exactly_once(make_stack, tmp_path):
    lone = make_stack(worker_count=1)
    client = lone.new_client()
    data, expected = generate(tmp_path, 150000, 31)
    submitted = client.submit_import(data, {"objectType": "contacts"})
    assert submitted.status == 202, submitted.body
    location = submitted.header("Location")

    # Kill the worker once some, but not all, rows are applied.
    deadline = time.monotonic() + 120
    while True:
        job = client.get(location).json()
        if 0 < job["progress"]["rowsProcessed"] < expected["counts"]["rowsRead"] // 2:
            break
        assert job["status"] in ("PENDING", "PROCESSING"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    lone.workers[0].send_signal(signal.SIGKILL)
    lone.workers[0].wait()
    applied_before_crash = client.get(location).json()["progress"]["rowsProcessed"]
    assert applied_before_crash < expected["counts"]["rowsRead"]

    lone.start_worker(0)
    job = client.wait(location, timeout=300)
    assert job["status"] == "DONE", job
    assert job["counts"] == expected["counts"]
    assert job["attempts"] >= 2

    errors = client.all_errors(job["id"])
    assert [entry["row"] for entry in errors] == [row["row"] for row in expected["failedRows"]]

    exported = export_records(client, ["email"])
    emails = [row["email"] for row in exported]
    assert len(emails) == len(set(emails))
    assert sorted(emails) == sorted(record["email"] for record in expected["records"])
