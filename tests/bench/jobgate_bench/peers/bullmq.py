"""BullMQ (npm) behind a node:http server with jobgate's submit and status routes
(tests/bench/peers/bullmq/server.js), on a redis-server of its own with the stack's settings."""
import json
import os
import pathlib
import secrets
import subprocess
import time

from ..references.redis_benchmark import OwnRedis
from ..results import Result, command_output
from ..stack import EXPORT_BODY, Connection, free_port
from .process import PeerProcess, file_digest, measure_peer, wait_until_finished

NAME = "bullmq"
PEER_DIR = pathlib.Path(__file__).resolve().parents[2] / "peers" / "bullmq"
# Node HTTP processes under node:cluster, one per core of a 2-core machine, as the gateway runs
# its default of 2 threads and nginx 2 worker processes.
HTTP_PROCESSES = 2


def package_versions():
    """Return the versions of Node and of the npm packages that package-lock.json pins."""
    lock = json.loads((PEER_DIR / "package-lock.json").read_text())
    versions = {"node": command_output(["node", "--version"]).lstrip("v") or None}
    for package in ("bullmq", "ioredis"):
        versions[f"{package} (npm)"] = lock["packages"][f"node_modules/{package}"]["version"]
    return versions


def install(context):
    """Run npm ci in the peer's folder unless node_modules was installed from the same lock file.
    Return the seconds npm ci took, or None when nothing was installed."""
    marker = PEER_DIR / "node_modules" / ".jobgate-bench-lock-sha256"
    digest = file_digest(PEER_DIR / "package-lock.json")
    if marker.exists() and marker.read_text() == digest:
        return None
    started = time.monotonic()
    # No package needs its install script: msgpackr-extract's prebuilt binary is a package itself.
    done = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                          cwd=PEER_DIR, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {PEER_DIR} failed with exit code {done.returncode}: "
                           f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
    marker.write_text(digest)
    return time.monotonic() - started


def finish_status_jobs(context, env, port, api_key):
    """Submit the status-read jobs, let worker.js finish them and return their ids and the
    response sizes of one submit and one status read."""
    worker = PeerProcess("bullmq-worker", ["node", "worker.js"], env, context.workdir,
                         cwd=PEER_DIR)
    connection = Connection(port, api_key)
    try:
        submitted = [connection.submit_export() for _ in range(context.sizes.status_jobs)]
        ids = [job_id for job_id, _, _ in submitted]

        def is_done(job_id):
            status, _, payload = connection.request("GET", f"/v1/jobs/{job_id}")
            if status != 200:
                raise RuntimeError(f"GET /v1/jobs/{job_id} returned {status}: {payload[:300]!r}")
            return json.loads(payload)["status"] == "DONE"

        wait_until_finished(ids, is_done, context.sizes.drain_timeout_s)
        _, _, status_body = connection.request("GET", f"/v1/jobs/{ids[-1]}")
    finally:
        connection.close()
        worker.stop()
    accepted_body = submitted[-1][2][1]
    return ids, len(accepted_body), len(status_body)


def run(context):
    install_seconds = install(context)
    if install_seconds is not None:
        context.log(f"{NAME}: npm ci took {install_seconds:.1f} s")
    api_key = secrets.token_hex(16)
    port = free_port()
    body = json.dumps(EXPORT_BODY, separators=(",", ":"))
    redis = OwnRedis().start()
    server = None
    try:
        env = dict(os.environ)
        env.update({"BENCH_HTTP_PORT": str(port), "BENCH_REDIS_PORT": str(redis.port),
                    "BENCH_API_KEY": api_key, "BENCH_HTTP_PROCESSES": str(HTTP_PROCESSES)})
        server = PeerProcess("bullmq-server", ["node", "server.js"], env, context.workdir,
                             cwd=PEER_DIR)
        server.wait_until(lambda: "ready:" in server.log_tail(), "listen")
        ids, accepted_bytes, status_bytes = finish_status_jobs(context, env, port, api_key)

        result = Result(NAME, "peer",
                        f"BullMQ {package_versions()['bullmq (npm)']} behind a node:http server "
                        f"({HTTP_PROCESSES} processes under node:cluster) on a redis-server of "
                        "its own with the stack's settings. POST /v1/exports validates the body, "
                        "runs queue.add and responds 202. GET /v1/jobs/{id} reads the job and its "
                        "state (Job.fromId and getState). Same wrk script and connection counts "
                        "as the submit and status-read scenarios.",
                        {"http_processes": HTTP_PROCESSES, "status_jobs": len(ids),
                         "body_bytes": len(body), "accepted_body_bytes": accepted_bytes,
                         "status_body_bytes": status_bytes,
                         "job_options": {"removeOnComplete": {"age": 72 * 3600},
                                         "removeOnFail": {"age": 72 * 3600}}})
        if install_seconds is not None:
            result.notes.append(f"npm ci took {install_seconds:.1f} s before this run")
        measure_peer(context, result, NAME, f"http://127.0.0.1:{port}",
                     status={"path": "/v1/jobs/", "api_key": api_key, "ids": ids},
                     submit={"path": "/v1/exports", "api_key": api_key, "body": body})
    finally:
        if server is not None:
            server.stop()
        redis.stop()
    return [result]
