"""Broker and Redis restarts, and worker kills under load, on a Redis and Kafka of the test's own."""
import concurrent.futures
import os
import pathlib
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import ROOT
from test_import_export import generate

SERVICES = ROOT / "deploy" / "local" / "services"
TERMINAL = ("DONE", "FAILED", "CANCELED")


@pytest.fixture(scope="module")
def services():
    """A Redis and a Kafka that only this module uses, so it may restart them."""
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix="jobgate-faults-"))
    started = subprocess.run([str(SERVICES), "up", "--run-dir", str(run_dir)], check=True,
                             capture_output=True, text=True)
    settings = dict(line.split("=", 1) for line in started.stdout.split())

    def restart(name):
        subprocess.run([str(SERVICES), "restart", name, "--run-dir", str(run_dir)], check=True,
                       capture_output=True, text=True)

    settings["restart"] = restart
    settings["blob_dir"] = str(run_dir / "blobs")
    yield settings
    subprocess.run([str(SERVICES), "down", "--run-dir", str(run_dir), "--remove"], check=False,
                   capture_output=True)
    shutil.rmtree(run_dir, ignore_errors=True)


def own_stack(make_stack, services, worker_count, **settings):
    # A blob folder of its own too: killed workers leave partly written files behind, which the
    # tests of other modules would find in the shared folder.
    # The load tests submit thousands of jobs for one tenant, and a killed worker's job holds a
    # place under its tenant's running-jobs cap until its lease lapses, so the caps are off.
    settings.update({"JOBGATE_REDIS_URL": services["JOBGATE_REDIS_URL"],
                     "JOBGATE_KAFKA_BROKERS": services["JOBGATE_KAFKA_BROKERS"],
                     "JOBGATE_BLOB_DIR": services["blob_dir"],
                     "JOBGATE_RUNNING_IMPORTS": 0, "JOBGATE_RUNNING_EXPORTS": 0})
    return make_stack(settings, worker_count=worker_count)


class Submissions:
    """Submits small exports from several threads and sorts every response."""

    def __init__(self, client):
        self.client = client
        self.accepted = []
        self.refused = []
        self.unexpected = []
        self.lock = threading.Lock()

    def submit_one(self):
        try:
            response = self.client.post_json(
                "/v1/exports", {"objectType": "contacts", "properties": ["email"]})
        except OSError as error:
            with self.lock:
                self.unexpected.append(f"connection error: {error}")
            return
        with self.lock:
            if response.status == 202:
                self.accepted.append(response.json()["id"])
            elif (response.status == 503 and response.header("Retry-After")
                  and response.header("Content-Type").startswith("application/problem+json")):
                self.refused.append(response.json()["type"])
            else:
                self.unexpected.append(f"{response.status} {response.body[:300]!r}")

    def run(self, count, threads, stop=None):
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for _ in range(count):
                if stop is not None and stop.is_set():
                    break
                pool.submit(self.submit_one)


def wait_all_terminal(stack, client, ids, timeout):
    """Returns the jobs of ids once every one is terminal, failing after timeout seconds."""
    deadline = time.monotonic() + timeout
    remaining = set(ids)
    jobs = {}
    while remaining:
        if time.monotonic() > deadline:
            stuck = client.get(f"/v1/exports/{next(iter(remaining))}").json()
            logs = "\n".join(stack.log(f"worker{index}.log")[-2000:]
                             for index in range(len(stack.workers)))
            pytest.fail(f"{len(remaining)} jobs not terminal, e.g. {stuck}\n{logs}")
        for job_id in list(remaining)[:200]:
            job = client.get(f"/v1/exports/{job_id}").json()
            if job["status"] in TERMINAL:
                jobs[job_id] = job
                remaining.discard(job_id)
        if remaining:
            time.sleep(0.5)
    return jobs


def test_broker_restart_during_submissions_and_imports(make_stack, services, tmp_path):
    stack = own_stack(make_stack, services, 2)
    client = stack.new_client()
    data, expected = generate(tmp_path, 60000, 53)
    running = client.submit_import(data, {"objectType": "contacts"})
    assert running.status == 202, running.body

    # The exports run for a tenant without records, so each of them is short.
    submitter = stack.new_client()
    submissions = Submissions(submitter)
    stop = threading.Event()
    load = threading.Thread(target=submissions.run, args=(3000, 4, stop))
    load.start()
    try:
        time.sleep(1)
        services["restart"]("kafka")
        time.sleep(3)
    finally:
        stop.set()
        load.join()

    assert submissions.unexpected == []
    assert submissions.accepted
    print(f"accepted {len(submissions.accepted)}, refused {len(submissions.refused)}")
    jobs = wait_all_terminal(stack, submitter, submissions.accepted, timeout=240)
    assert {job["status"] for job in jobs.values()} == {"DONE"}
    imported = client.wait(running.header("Location"), timeout=240)
    assert imported["status"] == "DONE", imported
    assert imported["counts"] == expected["counts"]


def test_redis_restart_during_import(make_stack, services, tmp_path):
    stack = own_stack(make_stack, services, 2)
    client = stack.new_client()
    data, expected = generate(tmp_path, 80000, 59)
    running = client.submit_import(data, {"objectType": "contacts"})
    assert running.status == 202, running.body
    location = running.header("Location")
    deadline = time.monotonic() + 60
    while client.get(location).json()["progress"]["rowsProcessed"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    services["restart"]("redis")
    # Requests fail fast while Redis is away and work again by themselves once it is back.
    imported = client.wait(location, timeout=300)
    assert imported["status"] == "DONE", imported
    assert imported["counts"] == expected["counts"]
    after = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["email"]})
    assert after.status == 202, after.body


def test_load_with_worker_kills(make_stack, services):
    total = int(os.environ.get("JOBGATE_FAULT_LOAD_JOBS", "2000"))
    stack = own_stack(make_stack, services, 4)
    client = stack.new_client()
    submissions = Submissions(client)
    done_submitting = threading.Event()

    def kill_workers():
        # Kills one worker every 6 s, the consumer session timeout, and starts it again, until the
        # queue is drained.
        chooser = random.Random(61)
        while not done_submitting.wait(6):
            index = chooser.randrange(len(stack.workers))
            stack.workers[index].send_signal(signal.SIGKILL)
            stack.workers[index].wait()
            stack.start_worker(index)

    started = time.monotonic()
    killer = threading.Thread(target=kill_workers)
    killer.start()
    try:
        submissions.run(total, 8)
        submitted = time.monotonic()
        jobs = wait_all_terminal(stack, client, submissions.accepted, timeout=900)
    finally:
        done_submitting.set()
        killer.join()
    drained = time.monotonic()
    assert submissions.unexpected == []
    assert len(submissions.accepted) + len(submissions.refused) == total
    assert {job["status"] for job in jobs.values()} == {"DONE"}
    print(f"{len(submissions.accepted)} jobs accepted in {submitted - started:.1f} s, "
          f"drained {drained - submitted:.1f} s later, "
          f"most attempts {max(job['attempts'] for job in jobs.values())}")
