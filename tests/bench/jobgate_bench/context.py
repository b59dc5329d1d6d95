"""Run-wide state shared by the scenarios: the sizes of the mode, the running stack and facts
about one submit (response sizes, the Redis commands it issues, the Kafka message size)."""
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from .stack import EXPORT_BODY, Stack


@dataclasses.dataclass(frozen=True)
class Sizes:
    connections: tuple
    wrk_seconds: int
    warmup_seconds: int
    repetitions: int
    status_jobs: int
    e2e_jobs: int
    e2e_warmup_jobs: int
    drain_jobs: int
    drain_warmup_jobs: int
    drain_workers: tuple
    drain_repetitions: int
    drain_timeout_s: int
    redis_requests: int
    redis_clients: int
    kafka_records: int
    kafka_paced_records: int
    kafka_paced_rate: int
    upload_bytes: int
    idle_connections: int
    import_rows: tuple
    import_repetitions: tuple
    export_rows: tuple
    export_repetitions: tuple


FULL = Sizes(connections=(8, 32, 128), wrk_seconds=10, warmup_seconds=3, repetitions=3,
             status_jobs=200, e2e_jobs=200, e2e_warmup_jobs=20, drain_jobs=10000,
             drain_warmup_jobs=500, drain_workers=(1, 2, 4), drain_repetitions=2,
             drain_timeout_s=300, redis_requests=100000, redis_clients=32,
             kafka_records=100000, kafka_paced_records=2000, kafka_paced_rate=500,
             upload_bytes=1 << 30, idle_connections=10000,
             import_rows=(10_000, 100_000, 1_000_000), import_repetitions=(3, 3, 2),
             export_rows=(100_000, 1_000_000), export_repetitions=(3, 2))

SMOKE = Sizes(connections=(4,), wrk_seconds=2, warmup_seconds=1, repetitions=2,
              status_jobs=20, e2e_jobs=10, e2e_warmup_jobs=2, drain_jobs=50,
              drain_warmup_jobs=10, drain_workers=(1, 2, 4), drain_repetitions=1,
              drain_timeout_s=60, redis_requests=2000, redis_clients=4,
              kafka_records=2000, kafka_paced_records=200, kafka_paced_rate=200,
              upload_bytes=20 << 20, idle_connections=500,
              import_rows=(500, 2000), import_repetitions=(2, 1),
              export_rows=(500, 2000), export_repetitions=(2, 2))


def parse_monitor_line(line):
    """Split one MONITOR line into its arguments, undoing Redis' quoting of each of them."""
    start = line.find("] ")
    if start < 0:
        return []
    text = line[start + 2:]
    arguments = []
    index = 0
    escapes = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", '"': '"', "\\": "\\"}
    while index < len(text):
        if text[index] != '"':
            index += 1
            continue
        index += 1
        value = []
        while index < len(text) and text[index] != '"':
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                following = text[index + 1]
                if following == "x" and index + 3 < len(text):
                    value.append(chr(int(text[index + 2:index + 4], 16)))
                    index += 4
                    continue
                value.append(escapes.get(following, following))
                index += 2
                continue
            value.append(char)
            index += 1
        arguments.append("".join(value))
        index += 1
    return arguments


class Context:
    def __init__(self, sizes, smoke, build_dir, redis_url, brokers, log):
        self.sizes = sizes
        self.smoke = smoke
        self.build_dir = build_dir
        self.redis_url = redis_url
        self.brokers = brokers
        self.log = log
        self.workdir = tempfile.mkdtemp(prefix="jobgate-bench-")
        self._stack = None
        self._submit_facts = None
        self._resources = {}

    def stack(self):
        if self._stack is None:
            self.log(f"starting gateway from {self.build_dir}")
            self._stack = Stack(self.build_dir, self.workdir, self.redis_url, self.brokers).start()
        return self._stack

    def resource(self, name, create):
        """Return the object that create() made for name, calling it on the first request only.
        close() stops these objects, newest first, before the stack."""
        if name not in self._resources:
            self._resources[name] = create()
        return self._resources[name]

    def redis_address(self):
        parsed = urllib.parse.urlsplit(self.redis_url)
        return parsed.hostname or "127.0.0.1", parsed.port or 6379

    def submit_facts(self):
        """Submit one export while MONITOR records the Redis commands, and measure the sizes."""
        if self._submit_facts is not None:
            return self._submit_facts
        stack = self.stack()
        host, port = self.redis_address()
        # The gateway sends its scripts as EVALSHA. With the script cache flushed, the first
        # EVALSHA gets NOSCRIPT and the gateway sends the EVAL with the source, which MONITOR shows.
        subprocess.run(["redis-cli", "-h", host, "-p", str(port), "SCRIPT", "FLUSH"], check=True,
                       capture_output=True, timeout=10)
        monitor = subprocess.Popen(["redis-cli", "-h", host, "-p", str(port), "MONITOR"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(0.3)
        connection = stack.connection()
        job_id, job_path, (headers, accepted) = connection.submit_export()
        time.sleep(0.3)
        monitor.terminate()
        lines, _ = monitor.communicate(timeout=10)
        status, _, job_body = connection.request("GET", job_path)
        connection.close()
        if status != 200:
            raise RuntimeError(f"GET {job_path} returned {status}")
        job = json.loads(job_body)

        commands, script_commands = [], []
        create_eval = None
        for line in lines.splitlines():
            arguments = parse_monitor_line(line)
            # The submit's commands name its job id or tenant, unlike the gateway's periodic ones.
            if not arguments or not any(job_id in argument or stack.tenant in argument
                                        for argument in arguments[1:]):
                continue
            # MONITOR marks the commands that a Lua script runs with "lua" as the client.
            if " lua]" in line:
                script_commands.append(arguments[0].upper())
                continue
            names_job = any(job_id in argument for argument in arguments[1:])
            if arguments[0].upper() == "EVAL" and commands and commands[-1] == "EVALSHA":
                # The fallback after NOSCRIPT: a submit with a warm script cache sends only the
                # EVALSHA already counted.
                if create_eval is None and names_job:
                    create_eval = arguments
                continue
            commands.append(arguments[0].upper())
            if arguments[0].upper() == "EVAL" and create_eval is None and names_job:
                create_eval = arguments
        if create_eval is None:
            raise RuntimeError("MONITOR showed no EVAL that names the submitted job id")

        # The job message as gateway/router.cpp's job_message() writes it for an export without
        # custom properties: compact JSON, request as validated (here: as sent).
        message = json.dumps({"jobId": job_id, "tenant": stack.tenant, "kind": "exports",
                              "createdAt": job.get("createdAt"), "request": EXPORT_BODY},
                             separators=(",", ":"))
        self._submit_facts = {
            "job_id": job_id,
            "accepted_body_bytes": len(accepted),
            "location_header": headers.get("Location", ""),
            "retry_after_header": headers.get("Retry-After", ""),
            "redis_commands": commands,
            "redis_script_commands": script_commands,
            "create_eval": create_eval,
            "kafka_message_bytes": len(message.encode()),
        }
        return self._submit_facts

    def close(self):
        """Stop the stack and delete the work directory, unless JOBGATE_KEEP_RUN_DIR=1 keeps it
        (with the gateway and worker logs) for a look after a failed run."""
        for resource in reversed(list(self._resources.values())):
            resource.stop()
        if self._stack is not None:
            self._stack.stop()
        if os.environ.get("JOBGATE_KEEP_RUN_DIR") == "1":
            self.log(f"kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
