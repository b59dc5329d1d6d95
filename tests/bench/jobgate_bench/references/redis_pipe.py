"""The raw Redis rate of the commands that an import runs. The commands that the worker's batch
script (apply_import_batch in common/jobs/job_scripts.cpp) runs inside Redis are written for every
row of the same CSV as a Redis protocol stream. redis-cli --pipe pushes that stream into a separate
redis-server with the stack's settings. MONITOR during a small import through the gateway records
which commands the script runs, and the stream must use the same commands on the same keys."""
import collections
import pathlib
import re
import subprocess
import time

from ..context import parse_monitor_line
from ..import_stack import contacts_csv, encode_command, import_stack
from ..results import Result
from .contacts_import import batches, read_rows, valid_rows
from .redis_benchmark import OwnRedis

NAME = "redis-pipe"
# The worker's default batch-rows. The worker flushes once a 64 KiB read leaves 500 or more rows
# pending, so its batches hold 500 to about 560 rows of these CSVs.
BATCH_ROWS = 500
MONITOR_ROWS = 1200
TENANT = "benchpipe"
JOB_ID = "imp_0000000000000000000000000000bench"
PIPE_SUMMARY = re.compile(r"errors: (\d+), replies: (\d+)")
# Patterns of the keys of one tenant and one job, the most specific first, and their names.
KEY_CLASSES = [(re.compile(r"^jg:job:[^:]+:errors$"), "jg:job:ID:errors"),
               (re.compile(r"^jg:job:[^:]+$"), "jg:job:ID"),
               (re.compile(r"^jg:rec:.+$"), "jg:rec:TENANT:contacts:RECORD"),
               (re.compile(r"^jg:(uniq|recs|seq):[^:]+:contacts$"), r"jg:\1:TENANT:contacts")]


def key_class(key):
    for pattern, replacement in KEY_CLASSES:
        if pattern.match(key):
            return pattern.sub(replacement, key)
    return key


def batch_commands(batch, state, now):
    """Return the commands that apply_import_batch runs for one batch of read_rows() tuples, in
    the order that MONITOR shows. They are the fenced job check, the index lookup, one INCRBY for
    the new ids, one HSET per valid row, the index, id and error appends, and the job's counters
    and checkpoint. state carries the index and the next record id from batch to batch."""
    job = f"jg:job:{JOB_ID}"
    prefix = f"jg:rec:{TENANT}:contacts:"
    commands = [["HMGET", job, "status", "attempts", "ckOffset"]]
    keys = [row[1] for row in batch if row[0] == "v"]
    for first in range(0, len(keys), 1000):
        commands.append(["HMGET", f"jg:uniq:{TENANT}:contacts", *keys[first:first + 1000]])
    new_keys = len({key for key in keys if key not in state["index"]})
    if new_keys:
        commands.append(["INCRBY", f"jg:seq:{TENANT}:contacts", new_keys])

    counts = collections.Counter()
    index_entries, id_entries, errors = [], [], []
    # The job hash names the blank row counter skippedBlank.
    for key, values in valid_rows(batch, counts, errors, "skippedBlank"):
        fields = [part for pair in values for part in pair]
        record = state["index"].get(key)
        if record:
            commands.append(["HSET", prefix + record, *fields, "updatedAt", now])
            counts["updated"] += 1
            continue
        state["next_id"] += 1
        record = str(state["next_id"])
        state["index"][key] = record
        index_entries += [key, record]
        id_entries += [record, record]
        commands.append(["HSET", prefix + record, *fields, "email", key, "id", record,
                         "createdAt", now, "updatedAt", now])
        counts["created"] += 1
    # The script splits each list into calls of at most 1000 entries.
    for command, key, entries, width in (("HSET", f"jg:uniq:{TENANT}:contacts", index_entries, 2),
                                         ("ZADD", f"jg:recs:{TENANT}:contacts", id_entries, 2),
                                         ("RPUSH", f"{job}:errors", errors, 1)):
        for first in range(0, len(entries), 1000 * width):
            commands.append([command, key, *entries[first:first + 1000 * width]])

    processed = len(batch)
    for name in ("created", "updated", "failed", "skippedBlank"):
        commands.append(["HINCRBY", job, name, counts[name]])
    commands.append(["HINCRBY", job, "rowsProcessed", processed])
    state["row"] += processed
    commands.append(["HSET", job, "ckOffset", state["row"] * 100, "ckRow", state["row"] + 1,
                     "ckLine", state["row"] + 2, "updatedAt", now])
    commands.append(["HMGET", job, "kind", "status", "rowsTotal", "rowsProcessed", "statsStatus",
                     "statsRows"])
    commands.append(["HINCRBY", "jg:job-stats", "imports:rows", -processed])
    commands.append(["HSET", job, "statsStatus", "PROCESSING", "statsRows",
                     max(0, state["rows"] - state["row"])])
    commands.append(["PUBLISH", "jg:job-changes", JOB_ID])
    return commands, counts


def job_setup(rows):
    """Return the commands that create the job hash the batches update, as a started import."""
    return [["HSET", f"jg:job:{JOB_ID}", "id", JOB_ID, "tenant", TENANT, "kind", "imports",
             "status", "PROCESSING", "attempts", "1", "ckOffset", "0", "rowsTotal", rows,
             "statsStatus", "PROCESSING", "statsRows", rows],
            ["HINCRBY", "jg:job-stats", "imports:rows", rows]]


def new_state(rows):
    """Return the state of batch_commands() at the start of an import of rows rows."""
    return {"index": {}, "next_id": 0, "row": 0, "rows": rows}


def write_stream(path, rows, out_path):
    """Write the protocol stream of the whole CSV to out_path, and return the number of commands
    and the counts of created, updated, failed and blank rows."""
    state = new_state(rows)
    written, totals = 0, collections.Counter()
    with open(out_path, "wb") as out:
        for batch in batches(read_rows(path), BATCH_ROWS):
            commands, counts = batch_commands(batch, state, str(int(time.time() * 1000)))
            out.write(b"".join(encode_command(command) for command in commands))
            written += len(commands)
            totals.update(counts)
    return written, totals


def command_shapes(commands):
    """Return the set of (command, key pattern) pairs of a list of commands."""
    return {(command[0], key_class(str(command[1]))) for command in commands}


def monitored_batch_shapes(context):
    """Import MONITOR_ROWS rows through the gateway while MONITOR runs. Return the (command, key
    pattern) pairs that the batch scripts ran, and the number of batches seen."""
    stack = import_stack(context)
    stack.ensure_import_worker(context)
    host, port = context.redis_address()
    # MONITOR writes to a file, line by line, because a pipe that is not read during the import
    # would stall redis-cli, and output still buffered at SIGTERM would be lost.
    path = pathlib.Path(context.workdir) / "import-monitor.txt"
    with open(path, "w", encoding="utf-8") as out:
        monitor = subprocess.Popen(["stdbuf", "-oL", "redis-cli", "-h", host, "-p", str(port),
                                    "MONITOR"], stdout=out, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            stack.import_file(contacts_csv(context, MONITOR_ROWS), MONITOR_ROWS)
            time.sleep(0.3)
        finally:
            monitor.terminate()
            monitor.wait(timeout=10)
    lines = path.read_text(encoding="utf-8", errors="replace")

    # A script's commands are contiguous in MONITOR, since Redis runs a script without
    # interleaving other clients. A batch script starts with the fenced HMGET of ckOffset.
    shapes, batches_seen, in_batch = set(), 0, False
    for line in lines.splitlines():
        if " lua]" not in line:
            in_batch = False
            continue
        arguments = parse_monitor_line(line)
        if not arguments:
            continue
        if arguments[0].upper() == "HMGET" and arguments[2:] == ["status", "attempts",
                                                                 "ckOffset"]:
            in_batch = True
            batches_seen += 1
        if in_batch:
            shapes.add((arguments[0].upper(), key_class(arguments[1])))
    stack.stop_import_worker()
    if not batches_seen:
        raise RuntimeError("MONITOR showed no batch script during the import")
    return shapes, batches_seen


def push(stream_path, rows, expected_replies):
    """Push the stream into a fresh redis-server with the stack's settings; return the metrics."""
    redis = OwnRedis().start()
    try:
        setup = b"".join(encode_command(command) for command in job_setup(rows))
        subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], input=setup, check=True,
                       capture_output=True, timeout=60)
        started = time.monotonic()
        with open(stream_path, "rb") as stream:
            done = subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], stdin=stream,
                                  capture_output=True, text=True, timeout=900)
        seconds = time.monotonic() - started
        info = subprocess.run(["redis-cli", "-p", str(redis.port), "INFO", "memory"],
                              capture_output=True, text=True, timeout=30).stdout
    finally:
        redis.stop()
    match = PIPE_SUMMARY.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"redis-cli --pipe failed ({done.returncode}): "
                           f"{done.stdout[-1000:]}{done.stderr[-1000:]}")
    errors, replies = int(match.group(1)), int(match.group(2))
    if errors or replies != expected_replies:
        raise RuntimeError(f"redis-cli --pipe: {errors} errors and {replies} replies, expected "
                           f"no error and {expected_replies} replies")
    memory = re.search(r"used_memory:(\d+)", info)
    return {"rows_per_s": rows / seconds, "seconds": seconds, "seconds_per_row": seconds / rows,
            "commands_per_s": replies / seconds,
            "used_memory_mib": int(memory.group(1)) / 2**20 if memory else float("nan")}


def run(context):
    sizes = context.sizes
    shapes, batches_seen = monitored_batch_shapes(context)
    small = contacts_csv(context, MONITOR_ROWS)
    state = new_state(MONITOR_ROWS)
    ours = set()
    for batch in batches(read_rows(small), BATCH_ROWS):
        ours |= command_shapes(batch_commands(batch, state, "0")[0])
    if ours != shapes:
        raise RuntimeError(f"the stream's commands differ from the batch script's: only in the "
                           f"script {sorted(shapes - ours)}, only in the stream "
                           f"{sorted(ours - shapes)}")

    result = Result(NAME, "reference",
                    "redis-cli --pipe into a separate redis-server with the stack's settings (AOF, "
                    "appendfsync everysec), of the commands that the import's batch script runs, "
                    f"written for every row of the same CSV in batches of {BATCH_ROWS} rows: per "
                    "batch an HMGET of the job, an HMGET of the batch's addresses in the email "
                    "index, an INCRBY for the new record ids, one HSET per valid row, an HSET of "
                    "the new index entries, a ZADD of the new ids, an RPUSH of the rejected rows, "
                    "and the job's counters, checkpoint and stats (HINCRBY, HSET, HMGET, PUBLISH).",
                    {"batch_rows": BATCH_ROWS,
                     "script_commands": sorted(f"{command} {key}" for command, key in shapes),
                     "monitored_batches": batches_seen, "monitored_rows": MONITOR_ROWS})
    for rows, repetitions in zip(sizes.import_rows, sizes.import_repetitions):
        path = contacts_csv(context, rows)
        stream_path = path.with_suffix(".resp")
        started = time.monotonic()
        commands, counts = write_stream(path, rows, stream_path)
        context.log(f"{NAME}: wrote {commands} commands for {rows} rows "
                    f"({stream_path.stat().st_size / 1e6:.0f} MB) in "
                    f"{time.monotonic() - started:.1f} s")
        entry = result.measurement("redis-cli --pipe", f"{rows} rows",
                                   {"rows": rows, "commands": commands,
                                    "stream_bytes": stream_path.stat().st_size,
                                    "created": counts["created"], "updated": counts["updated"],
                                    "failed": counts["failed"],
                                    "skipped_blank": counts["skippedBlank"]})
        for repetition in range(repetitions):
            metrics = push(stream_path, rows, commands)
            entry.add_run(metrics)
            context.log(f"{NAME} {rows} rows #{repetition + 1}: {metrics['rows_per_s']:.0f} rows/s "
                        f"({metrics['commands_per_s']:.0f} commands/s)")
        stream_path.unlink()
    return [result]
