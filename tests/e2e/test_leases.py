"""Leases, takeover and fencing of running jobs, orphaned jobs, and a graceful worker stop."""
import json
import secrets
import signal
import time

from test_cancel_and_expiry import redis_cli
from test_import_export import export_records, generate


def log_entries(stack, index, job_id):
    entries = []
    for line in stack.log(f"worker{index}.log").splitlines():
        if job_id in line and line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def owner_of(stack, job_id):
    """The index of the worker whose log shows that it started the job."""
    for index in range(len(stack.workers)):
        if any(entry["msg"] == "job started" for entry in log_entries(stack, index, job_id)):
            return index
    return None


def start_mid_import(stack, client, tmp_path, rows):
    """Submits an import and returns (location, expected, owner) once some of its rows are in."""
    data, expected = generate(tmp_path, rows, 47)
    submitted = client.submit_import(data, {"objectType": "contacts"})
    assert submitted.status == 202, submitted.body
    location = submitted.header("Location")
    deadline = time.monotonic() + 120
    while True:
        job = client.get(location).json()
        if 0 < job["progress"]["rowsProcessed"] < expected["counts"]["rowsRead"] // 3:
            break
        assert job["status"] in ("PENDING", "PROCESSING"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.01)
    owner = owner_of(stack, job["id"])
    assert owner is not None
    return location, expected, owner


def check_imported_exactly_once(client, job, expected):
    assert job["status"] == "DONE", job
    assert job["counts"] == expected["counts"]
    errors = client.all_errors(job["id"])
    assert [entry["row"] for entry in errors] == [row["row"] for row in expected["failedRows"]]
    emails = [row["email"] for row in export_records(client, ["email"])]
    assert len(emails) == len(set(emails))
    assert sorted(emails) == sorted(record["email"] for record in expected["records"])


def test_frozen_worker_is_taken_over_and_fenced(make_stack, tmp_path):
    stack = make_stack({"JOBGATE_LEASE": 2000}, worker_count=2)
    client = stack.new_client()
    location, expected, owner = start_mid_import(stack, client, tmp_path, 200000)
    zombie = stack.workers[owner]
    zombie.send_signal(signal.SIGSTOP)
    seen = []
    try:
        # The lease lapses after 2 s, before Kafka's 6 s session timeout moves the partition.
        deadline = time.monotonic() + 120
        while True:
            job = client.get(location).json()
            seen.append((job["status"], job["attempts"], job["progress"]["rowsProcessed"]))
            if job["attempts"] >= 2 and job["status"] in ("PROCESSING", "DONE"):
                break
            assert time.monotonic() < deadline, seen[-1]
            time.sleep(0.1)
    finally:
        zombie.send_signal(signal.SIGCONT)
    assert ("PENDING", 1) in [(status, attempts) for status, attempts, _ in seen]

    job = client.wait(location, timeout=300)
    check_imported_exactly_once(client, job, expected)
    progress = [rows for _, _, rows in seen]
    assert progress == sorted(progress)

    # The zombie's first write after it woke up was rejected.
    deadline = time.monotonic() + 30
    while not any(entry["msg"] == "job attempt superseded by a newer attempt"
                  and str(entry.get("attempt")) == "1" for entry in log_entries(stack, owner, job["id"])):
        assert time.monotonic() < deadline, stack.log(f"worker{owner}.log")[-3000:]
        time.sleep(0.2)
    taken = [entry for index in range(len(stack.workers))
             for entry in log_entries(stack, index, job["id"])
             if entry["msg"] == "job taken over: its lease lapsed"]
    assert taken


def test_job_without_queued_message_is_produced(make_stack):
    stack = make_stack(worker_count=1)
    client = stack.new_client()
    # The gateway marks an accepted job queued once the broker acknowledged its message, without
    # holding the 202 for it, so no sweeper produces it again.
    accepted = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["email"]})
    assert accepted.status == 202, accepted.body
    deadline = time.monotonic() + 5
    while redis_cli("ZSCORE", "jg:unqueued", accepted.json()["id"]) != "":
        assert time.monotonic() < deadline, "the accepted job is still in jg:unqueued after 5 s"
        time.sleep(0.01)

    # Record a job the way the gateway does, but stop before the message is produced, as a gateway
    # killed between the two steps would.
    stack.workers[0].send_signal(signal.SIGSTOP)
    try:
        template = client.post_json("/v1/exports",
                                    {"objectType": "contacts", "properties": ["email"]})
        assert template.status == 202, template.body
        flat = redis_cli("--no-raw", "HGETALL", f"jg:job:{template.json()['id']}")
    finally:
        stack.workers[0].send_signal(signal.SIGCONT)
    values = [json.loads(line.split(") ", 1)[1]) for line in flat.splitlines()]
    fields = dict(zip(values[0::2], values[1::2]))
    orphan_id = "exp_" + secrets.token_hex(16)
    message = json.loads(fields["message"])
    message["jobId"] = orphan_id
    fields.update({"id": orphan_id, "status": "PENDING", "attempts": "0",
                   "message": json.dumps(message)})
    arguments = [item for pair in fields.items() for item in pair]
    redis_cli("HSET", f"jg:job:{orphan_id}", *arguments)
    redis_cli("ZADD", f"jg:jobs:{stack.tenant}", fields["createdAt"], orphan_id)
    redis_cli("ZADD", "jg:unqueued", "0", orphan_id)

    job = client.wait(f"/v1/exports/{orphan_id}", timeout=120)
    assert job["status"] == "DONE", job
    assert redis_cli("ZSCORE", "jg:unqueued", orphan_id) == ""
    produced = [entry for entry in log_entries(stack, 0, orphan_id)
                if entry["msg"] == "job message produced again"]
    assert len(produced) == 1


def test_sigterm_mid_import_checkpoints_and_exits(make_stack, tmp_path):
    stack = make_stack(worker_count=2)
    client = stack.new_client()
    location, expected, owner = start_mid_import(stack, client, tmp_path, 150000)
    stopping = stack.workers[owner]
    stopping.send_signal(signal.SIGTERM)
    assert stopping.wait(timeout=30) == 0
    entries = log_entries(stack, owner, client.get(location).json()["id"])
    assert any(entry["msg"] == "job attempt interrupted; it will run again"
               for entry in entries), entries

    job = client.wait(location, timeout=300)
    check_imported_exactly_once(client, job, expected)
    assert job["attempts"] >= 2
