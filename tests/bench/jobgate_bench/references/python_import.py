"""A plain Python import of the same CSVs: contacts_import.py (the csv module and redis-py
pipelines of 1000 rows) into a separate redis-server with the stack's settings, with jobgate's
key layout and the same deduplication by email address."""
import json
import os
import pathlib
import subprocess
import sys

from ..import_stack import contacts_csv
from ..pip_target import pip_install
from ..plot import PACKAGE_DIR
from ..results import Result
from .redis_benchmark import OwnRedis

NAME = "python-import"
SCRIPT = pathlib.Path(__file__).resolve().parent / "contacts_import.py"
REDIS_PY_VERSION = "5.2.1"
BATCH_ROWS = 1000
TENANT = "benchpython"


def imports_redis(python_path):
    environment = dict(os.environ)
    environment.pop("PYTHONPATH", None)
    if python_path:
        environment["PYTHONPATH"] = python_path
    done = subprocess.run([sys.executable, "-c", "import redis"], env=environment,
                          capture_output=True, timeout=60)
    return done.returncode == 0


def redis_py_path():
    """Return the PYTHONPATH under which sys.executable imports redis-py ("" for none), and install
    redis-py with pip into PACKAGE_DIR when the interpreter lacks it.

    Debian's python3-redis serves /usr/bin/python3. Another python3 on PATH gets its own copy in
    the directory where plot.py installs matplotlib."""
    if imports_redis(""):
        return ""
    if PACKAGE_DIR.is_dir() and imports_redis(str(PACKAGE_DIR)):
        return str(PACKAGE_DIR)
    pip_install(PACKAGE_DIR, [f"redis=={REDIS_PY_VERSION}"])
    if not imports_redis(str(PACKAGE_DIR)):
        raise RuntimeError(f"pip installed redis-py into {PACKAGE_DIR}, but {sys.executable} "
                           "cannot import it from there")
    return str(PACKAGE_DIR)


def import_once(python_path, path, rows):
    redis = OwnRedis().start()
    try:
        environment = dict(os.environ)
        environment.pop("PYTHONPATH", None)
        if python_path:
            environment["PYTHONPATH"] = python_path
        done = subprocess.run([sys.executable, str(SCRIPT), "--redis-url",
                               f"redis://127.0.0.1:{redis.port}", "--tenant", TENANT, "--csv",
                               str(path), "--batch-rows", str(BATCH_ROWS)],
                              env=environment, capture_output=True, text=True, timeout=1800)
    finally:
        redis.stop()
    if done.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["rows"] != rows:
        raise RuntimeError(f"{SCRIPT.name} read {report['rows']} rows of {rows}")
    seconds = report["seconds"]
    metrics = {"rows_per_s": rows / seconds, "seconds": seconds, "seconds_per_row": seconds / rows}
    metrics.update({name: report[name] for name in ("created", "updated", "failed",
                                                    "skipped_blank")})
    return metrics, report["redis_py"]


def run(context):
    sizes = context.sizes
    python_path = redis_py_path()
    result = Result(NAME, "reference",
                    f"{SCRIPT.name}: a plain Python import (csv module, redis-py pipelines of "
                    f"{BATCH_ROWS} rows, three round trips per batch: HMGET of the addresses in "
                    "the email index, INCRBY for the new ids, then the record HSETs and the index, "
                    "id and error appends) of the same CSV into a separate redis-server with the "
                    "stack's settings, in jobgate's key layout. Rows with an address already seen "
                    "update that record. Timed inside the script, from opening the CSV to the last "
                    "pipeline's replies.",
                    {"batch_rows": BATCH_ROWS, "python": sys.version.split()[0],
                     "redis_py_path": python_path or "(the interpreter's own)"})
    for rows, repetitions in zip(sizes.import_rows, sizes.import_repetitions):
        path = contacts_csv(context, rows)
        entry = result.measurement("python", f"{rows} rows", {"rows": rows})
        for repetition in range(repetitions):
            metrics, version = import_once(python_path, path, rows)
            result.parameters["redis_py"] = version
            entry.add_run(metrics)
            context.log(f"{NAME} {rows} rows #{repetition + 1}: {metrics['rows_per_s']:.0f} rows/s "
                        f"in {metrics['seconds']:.1f} s")
    return [result]
