"""The PNG summary of a run: throughput and p99 latency of the gateway beside its references,
end-to-end latency and drain times."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE_DIR = ROOT / ".cache" / f"bench-python{sys.version_info[0]}.{sys.version_info[1]}"
MATPLOTLIB_VERSION = "3.10.3"


def import_pyplot():
    """Import matplotlib.pyplot, installing matplotlib under .cache with pip when python3 lacks it.

    Debian's python3-matplotlib serves /usr/bin/python3; another python3 on PATH gets its own copy.
    """
    if PACKAGE_DIR.is_dir() and str(PACKAGE_DIR) not in sys.path:
        sys.path.insert(0, str(PACKAGE_DIR))
    try:
        import matplotlib
    except ImportError:
        import subprocess
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target",
                               str(PACKAGE_DIR), f"matplotlib=={MATPLOTLIB_VERSION}"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("matplotlib is missing and pip could not install it into "
                               f"{PACKAGE_DIR}: {done.stderr[-1000:]}")
        if str(PACKAGE_DIR) not in sys.path:
            sys.path.insert(0, str(PACKAGE_DIR))
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def matplotlib_version():
    import matplotlib
    return matplotlib.__version__


def _pairs(results, scenario, reference, metric):
    """Return (labels, gateway values, responder values) of one metric per connection count."""
    labels, ours, theirs = [], [], []
    if scenario not in results or reference not in results:
        return labels, ours, theirs
    for entry in results[scenario].measurements:
        other = results[reference].find("responder", entry.label)
        if other is None:
            continue
        labels.append(str(entry.parameters["connections"]))
        ours.append(entry.median().get(metric, 0.0))
        theirs.append(other.median().get(metric, 0.0))
    return labels, ours, theirs


def _bars(axis, labels, ours, theirs, title, unit):
    positions = range(len(labels))
    width = 0.38
    axis.bar([p - width / 2 for p in positions], ours, width, label="jobgate")
    axis.bar([p + width / 2 for p in positions], theirs, width, label="nginx responder")
    axis.set_xticks(list(positions), labels)
    axis.set_xlabel("wrk connections")
    axis.set_ylabel(unit)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    if unit == "requests/s":
        # The responder is often 10 to 100 times faster, which a linear axis flattens.
        axis.set_yscale("log")


def write_plot(results, path, title):
    pyplot = import_pyplot()
    figure, axes = pyplot.subplots(2, 3, figsize=(15, 8.5))
    panels = [
        ("submit", "responder-202", "requests_per_s", "Submit throughput (POST /v1/exports)",
         "requests/s"),
        ("submit", "responder-202", "p99_ms", "Submit p99 latency", "ms"),
        ("status-reads", "responder-200", "requests_per_s",
         "Status read throughput (GET /v1/jobs/{id})", "requests/s"),
        ("status-reads", "responder-200", "p99_ms", "Status read p99 latency", "ms"),
    ]
    for axis, (scenario, reference, metric, panel_title, unit) in zip(axes.flat, panels):
        labels, ours, theirs = _pairs(results, scenario, reference, metric)
        if labels:
            _bars(axis, labels, ours, theirs, panel_title, unit)
        else:
            axis.set_title(panel_title + " (not run)", fontsize=10)

    axis = axes.flat[4]
    if "end-to-end" in results and results["end-to-end"].measurements:
        medians = results["end-to-end"].measurements[0].median()
        names = ["p50_ms", "p99_ms"]
        axis.bar(["p50", "p99"], [medians.get(name, 0.0) for name in names])
        axis.axhline(10, color="tab:green", linestyle="--", linewidth=1, label="p50 target 10 ms")
        axis.axhline(50, color="tab:red", linestyle="--", linewidth=1, label="p99 target 50 ms")
        axis.legend(fontsize=8)
    axis.set_ylabel("ms")
    axis.set_title("End-to-end latency, submit to DONE event", fontsize=10)

    axis = axes.flat[5]
    if "drain" in results and results["drain"].measurements:
        entries = results["drain"].measurements
        axis.bar([str(entry.parameters["workers"]) for entry in entries],
                 [entry.median().get("seconds", 0.0) for entry in entries])
        axis.set_xlabel("workers")
        jobs = entries[0].parameters["jobs"]
        axis.set_title(f"Drain time of {jobs} queued exports", fontsize=10)
    else:
        axis.set_title("Drain time (not run)", fontsize=10)
    axis.set_ylabel("s")

    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
