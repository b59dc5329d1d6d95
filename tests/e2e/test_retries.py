"""A job that keeps failing transiently ends FAILED after max-attempts, with its last error."""
import json
import os
import pathlib
import shutil
import signal
import time

from conftest import BLOB_DIR


def test_job_that_keeps_failing_is_given_up(make_stack):
    stack = make_stack({"JOBGATE_MAX_ATTEMPTS": 3}, worker_count=1)
    client = stack.new_client()
    # The worker is stopped while the upload is swapped for a directory, which every read fails on.
    stack.workers[0].send_signal(signal.SIGSTOP)
    try:
        response = client.submit_import(b"email\nada@example.com\n", {"objectType": "contacts"})
        assert response.status == 202, response.body
        job_id = response.json()["id"]
        upload = pathlib.Path(BLOB_DIR) / stack.tenant / "imports" / f"{job_id}.csv"
        upload.unlink()
        upload.mkdir()
    finally:
        stack.workers[0].send_signal(signal.SIGCONT)
    try:
        job = client.wait(response.header("Location"), timeout=120)
    finally:
        shutil.rmtree(upload, ignore_errors=True)
    assert job["status"] == "FAILED", job
    assert job["errorDetails"]["type"].endswith("/too-many-attempts")
    assert "cannot be read" in job["errorDetails"]["detail"]
    assert job["attempts"] == 4
    log = stack.log("worker0.log")
    given_up = [json.loads(line) for line in log.splitlines()
                if "dead-letter" in line and job_id in line]
    assert len(given_up) == 1
