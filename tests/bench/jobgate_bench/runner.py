"""Command-line entry of tests/bench/run: runs the scenarios and references, then writes
results.json and results.png and prints the ratios."""
import argparse
import dataclasses
import os
import pathlib
import shlex
import signal
import sys
import time
import traceback

from . import checks as checks_module
from .context import FULL, SMOKE, Context
from .plot import matplotlib_version, write_plot
from .peers import bullmq, celery_flower
from .references import kafka_producer, python_import, redis_benchmark, redis_pipe
from .results import machine_description, write_json
from .scenarios import (connection_memory, drain, end_to_end, export_throughput,
                        import_throughput, status_reads, submit, upload_memory)

ROOT = pathlib.Path(__file__).resolve().parents[3]

# Run order matters: the end-to-end, drain and status-read scenarios run workers, and the submit
# scenario then leaves a backlog of queued exports that no later scenario consumes, so the import
# and export scenarios, whose export worker would take that backlog first, run before it. The
# memory scenarios start gateways of their own, and the peers run their own Redis and servers.
MODULES = [end_to_end, drain, status_reads, import_throughput, export_throughput, submit,
           redis_benchmark, redis_pipe, python_import, kafka_producer, upload_memory,
           connection_memory, bullmq, celery_flower]
# A reference measured inside a scenario is selected through that scenario.
ALIASES = {"responder-202": "submit", "responder-200": "status-reads", "beast-202": "submit",
           "beast-200": "status-reads"}


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/run",
        description="Measure jobgate against a trivial HTTP responder, redis-benchmark, raw "
                    "Kafka produce and the peers BullMQ and Celery with Flower, and write "
                    "results.json and results.png.")
    parser.add_argument("--smoke", action="store_true",
                        help="run every scenario at a tiny size (about 2.5 minutes in all) and "
                             "exit 0 whenever each produced numbers, whatever the ratios")
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench"),
                        help="directory for results.json and results.png (default: docs/bench)")
    names = [module.NAME for module in MODULES] + sorted(ALIASES)
    parser.add_argument("--only", action="append", choices=names, metavar="NAME",
                        help="run only this scenario or reference; repeatable; one of "
                             + ", ".join(names))
    return parser.parse_args(argv)


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def format_table(checks, informative):
    lines = ["", "Ratios and targets:"]
    for check in checks:
        verdict = "met" if check["met"] else "MISSED"
        lines.append(f"  {check['name']}: {check['value']:.3f} (target {check['comparison']} "
                     f"{check['target']}) {verdict}  [{check['detail']}]")
    for ratio in informative:
        lines.append(f"  {ratio['name']}: {ratio['value']:.3f}  [{ratio['detail']}]")
    return "\n".join(lines)


def stop_on_terminate(signum, _frame):
    """Turns SIGTERM into SystemExit, so that the finally blocks stop the servers the run
    started (gateways, workers, nginx, the Beast responder, the peers) before the process ends."""
    raise SystemExit(128 + signum)


def main(argv):
    signal.signal(signal.SIGTERM, stop_on_terminate)
    arguments = parse_arguments(argv)
    selected = {ALIASES.get(name, name) for name in (arguments.only or [])}
    sizes = SMOKE if arguments.smoke else FULL
    build_dir = pathlib.Path(os.environ.get("JOBGATE_BUILD_DIR", ROOT / "build"))
    if not build_dir.is_absolute():
        build_dir = ROOT / build_dir
    out = pathlib.Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    context = Context(sizes, arguments.smoke, build_dir, os.environ["JOBGATE_TEST_REDIS_URL"],
                      os.environ["JOBGATE_TEST_KAFKA_BROKERS"], log)
    machine = machine_description({"kafka": kafka_producer.kafka_version(),
                                   **bullmq.package_versions(),
                                   **celery_flower.package_versions()})
    results, failures = {}, {}
    try:
        for module in MODULES:
            if selected and module.NAME not in selected:
                continue
            log(f"running {module.NAME}")
            scenario_started = time.monotonic()
            try:
                for result in module.run(context):
                    results[result.name] = result
            except Exception as error:  # a failed scenario must not lose the others' numbers
                failures[module.NAME] = f"{type(error).__name__}: {error}"
                log(f"{module.NAME} failed: {error}")
                traceback.print_exc()
            log(f"{module.NAME} took {time.monotonic() - scenario_started:.1f} s")
    finally:
        context.close()

    checks, informative = checks_module.compute_checks(results)
    missing = [name for name, result in results.items() if not result.has_numbers()]
    plot_path = out / "results.png"
    mode = "smoke" if arguments.smoke else "full"
    write_plot(results, plot_path,
               f"jobgate benchmark ({mode}), {machine['nproc']} CPUs: {machine['cpu_model']}")
    machine["packages"]["matplotlib (imported)"] = matplotlib_version()
    document = {
        "mode": mode,
        "command": " ".join(shlex.quote(part) for part in ["tests/bench/run", *argv]),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "build_dir": str(build_dir),
        "machine": machine,
        "sizes": dataclasses.asdict(sizes),
        "results": [result.to_json() for result in results.values()],
        "checks": checks,
        "informative_ratios": informative,
        "failures": failures,
        "without_numbers": missing,
        "plot": plot_path.name,
    }
    write_json(out / "results.json", document)
    print(format_table(checks, informative), flush=True)
    log(f"wrote {out / 'results.json'} and {plot_path} in {document['duration_s']} s")

    if failures or missing:
        log(f"failed: {sorted(failures)}; without numbers: {missing}")
        return 1
    if arguments.smoke:
        return 0
    missed = [check["name"] for check in checks if not check["met"]]
    if missed:
        log(f"{len(missed)} of {len(checks)} targets missed")
        return 1
    return 0
