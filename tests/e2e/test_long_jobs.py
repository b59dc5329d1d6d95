"""A job that runs far longer than the consumer's max.poll.interval.ms runs once, to the end."""
import datetime
import json
import time

from test_import_export import generate

# The lowest max.poll.interval.ms the worker accepts; one row per batch makes the import slow.
SETTINGS = {"JOBGATE_MAX_POLL_INTERVAL": 10000, "JOBGATE_BATCH_ROWS": 1,
            "JOBGATE_MAX_UPLOAD_BYTES": 256 * 1024 * 1024, "JOBGATE_MAX_ROWS_PER_FILE": 0}
# Batches are pipelined, so even one row per batch ran 800,000 rows in 11 s on a 2-core AMD EPYC
# machine. Twice the interval at that rate needs about 1.5 million rows.
ROWS = 2000000


def test_job_longer_than_poll_interval_runs_once(make_stack, tmp_path):
    stack = make_stack(SETTINGS, worker_count=2)
    client = stack.new_client()
    data, expected = generate(tmp_path, ROWS, 31)
    wait_for_assignments(stack)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    job = client.wait(response.header("Location"), timeout=300)
    assert job["status"] == "DONE", job
    started = job["startedAt"]
    assert job["counts"] == expected["counts"]
    # One worker ran it from start to end: no second attempt, no rebalance in between.
    assert job["attempts"] == 1
    elapsed_ms = (client_time(job["completedAt"]) - client_time(started))
    assert elapsed_ms > 12000, f"the import took {elapsed_ms} ms; it must outlast the interval"
    logs = "".join(stack.log(f"worker{i}.log") for i in range(2))
    starts = [json.loads(line) for line in logs.splitlines()
              if '"job started"' in line and job["id"] in line]
    assert len(starts) == 1


def wait_for_assignments(stack, timeout=60, quiet_seconds=8):
    """Waits until both workers joined the import group and no assignment changed for longer than
    the 6 s session timeout, so members left over from earlier tests cause no rebalance later."""
    deadline = time.monotonic() + timeout
    last_count, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        # Each worker logs the import partitions it is given whenever its assignment changes.
        logs = [stack.log(f"worker{i}.log") for i in range(2)]
        count = sum(log.count("partitions=jobgate.imports") for log in logs)
        if count != last_count:
            last_count, quiet_since = count, time.monotonic()
        joined = all("assigned partitions=jobgate.imports" in log for log in logs)
        if joined and time.monotonic() - quiet_since >= quiet_seconds:
            return
        time.sleep(0.2)
    raise AssertionError("the workers did not settle in their consumer groups")


def client_time(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)
