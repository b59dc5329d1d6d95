"""Command-line entry of tests/bench/run: runs the scenarios and references, then writes
results.json and results.png and prints the ratios."""
import argparse
import dataclasses
import os
import pathlib
import shlex
import sys
import time
import traceback

from . import checks as checks_module
from .context import FULL, SMOKE, Context
from .plot import matplotlib_version, write_plot
from .references import kafka_producer, redis_benchmark
from .results import machine_description, write_json
from .scenarios import drain, end_to_end, status_reads, submit

ROOT = pathlib.Path(__file__).resolve().parents[3]

# Run order matters: the end-to-end, drain and status-read scenarios run workers, and the submit
# scenario then leaves a backlog of queued exports that no later scenario consumes.
MODULES = [end_to_end, drain, status_reads, submit, redis_benchmark, kafka_producer]
# A reference measured inside a scenario is selected through that scenario.
ALIASES = {"responder-202": "submit", "responder-200": "status-reads"}


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="tests/bench/run",
        description="Measure jobgate against a trivial HTTP responder, redis-benchmark and raw "
                    "Kafka produce, and write results.json and results.png.")
    parser.add_argument("--smoke", action="store_true",
                        help="run every scenario at a tiny size (about 90 seconds in all) and exit "
                             "0 whenever each produced numbers, whatever the ratios")
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


def main(argv):
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
    machine = machine_description({"kafka": kafka_producer.kafka_version()})
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
