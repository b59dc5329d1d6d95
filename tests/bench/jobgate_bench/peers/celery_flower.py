"""Celery behind Flower's REST API: the app of tests/bench/peers/celery_flower/celery_peer.py on a
redis-server of its own (broker and result backend), Flower serving the API, and a Celery worker
that finishes the jobs whose status is read."""
import json
import os
import pathlib
import re
import sys

from ..pip_target import cache_dir, install_requirements
from ..references.redis_benchmark import OwnRedis
from ..results import Result
from ..stack import EXPORT_BODY, Connection, free_port
from .process import PeerProcess, measure_peer, responds, wait_until_finished

NAME = "celery-flower"
PEER_DIR = pathlib.Path(__file__).resolve().parents[2] / "peers" / "celery_flower"
REQUIREMENTS = PEER_DIR / "requirements.txt"
PACKAGE_DIR = cache_dir("bench-celery")
TASK = "export"
# Prefork child processes of the worker, one per core of a 2-core machine.
WORKER_CONCURRENCY = 2
PINNED = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)$")


def package_versions():
    """Return the versions of Celery, Flower and their main dependencies that requirements.txt
    pins."""
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = PINNED.match(line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return {f"{package} (pip)": pins.get(package)
            for package in ("celery", "flower", "kombu", "redis", "tornado")}


def celery_command(*arguments):
    return [sys.executable, "-m", "celery", "--app", "celery_peer", *arguments]


def finish_status_jobs(context, env, port):
    """Send the status-read tasks through Flower, let a Celery worker finish them and return
    their ids and the response sizes of one async-apply and one result read."""
    worker = PeerProcess("celery-worker",
                         celery_command("worker", "--pool", "prefork", "--concurrency",
                                        str(WORKER_CONCURRENCY), "--without-gossip",
                                        "--without-mingle", "--loglevel", "WARNING"),
                         env, context.workdir)
    # Flower ignores the Authorization header that Connection sends when it has no auth set up.
    connection = Connection(port, "unused")
    try:
        ids = []
        for _ in range(context.sizes.status_jobs):
            status, _, accepted = connection.request("POST", f"/api/task/async-apply/{TASK}",
                                                     {"args": [EXPORT_BODY]})
            if status != 200:
                raise RuntimeError(f"POST /api/task/async-apply/{TASK} returned {status}: "
                                   f"{accepted[:300]!r}")
            ids.append(json.loads(accepted)["task-id"])

        def is_done(task_id):
            status, _, payload = connection.request("GET", f"/api/task/result/{task_id}")
            if status != 200:
                raise RuntimeError(f"GET /api/task/result/{task_id} returned {status}: "
                                   f"{payload[:300]!r}")
            state = json.loads(payload)["state"]
            if state == "FAILURE":
                raise RuntimeError(f"task {task_id} failed: {payload[:500]!r}")
            return state == "SUCCESS"

        wait_until_finished(ids, is_done, context.sizes.drain_timeout_s)
        _, _, status_body = connection.request("GET", f"/api/task/result/{ids[-1]}")
    finally:
        connection.close()
        worker.stop()
    return ids, len(accepted), len(status_body)


def run(context):
    install_seconds = install_requirements(PACKAGE_DIR, REQUIREMENTS)
    if install_seconds is not None:
        context.log(f"{NAME}: installed {REQUIREMENTS.name} into {PACKAGE_DIR} in "
                    f"{install_seconds:.1f} s")
    port = free_port()
    body = json.dumps({"args": [EXPORT_BODY]}, separators=(",", ":"))
    redis = OwnRedis().start()
    flower = None
    try:
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": os.pathsep.join([str(PACKAGE_DIR), str(PEER_DIR)]),
            "BENCH_REDIS_PORT": str(redis.port),
            # Flower 2.2.0 rejects every API call with 401 unless auth is configured or this is set.
            "FLOWER_UNAUTHENTICATED_API": "true",
        })
        flower = PeerProcess("flower",
                             celery_command("flower", "--address=127.0.0.1", f"--port={port}",
                                            "--logging=warning"),
                             env, context.workdir)
        flower.wait_until(lambda: responds(f"http://127.0.0.1:{port}/healthcheck"), "listen")
        ids, accepted_bytes, status_bytes = finish_status_jobs(context, env, port)

        versions = package_versions()
        result = Result(NAME, "peer",
                        f"Celery {versions['celery (pip)']} with the REST API of Flower "
                        f"{versions['flower (pip)']} (one Tornado process, no auth, "
                        "FLOWER_UNAUTHENTICATED_API=true) on a redis-server of its own as broker "
                        "and result backend. POST /api/task/async-apply/export sends the export "
                        "request as the task's argument; GET /api/task/result/{id} reads the "
                        "task state from the result backend. The worker runs only to finish the "
                        "tasks whose status is read. Same wrk script and connection counts as "
                        "the submit and status-read scenarios.",
                        {"task": TASK, "status_jobs": len(ids), "body_bytes": len(body),
                         "accepted_body_bytes": accepted_bytes, "status_body_bytes": status_bytes,
                         "worker": f"prefork, concurrency {WORKER_CONCURRENCY}, prefetch "
                                   "multiplier 64, without gossip and mingle",
                         "result_expires_s": 72 * 3600})
        if install_seconds is not None:
            result.notes.append(f"pip install took {install_seconds:.1f} s before this run")
        url = f"http://127.0.0.1:{port}"
        measure_peer(context, result, NAME, url,
                     status={"path": "/api/task/result/", "ids": ids},
                     submit={"path": f"/api/task/async-apply/{TASK}", "body": body})
    finally:
        if flower is not None:
            flower.stop()
        redis.stop()
    return [result]
