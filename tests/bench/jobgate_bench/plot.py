"""The PNG summary of a run: throughput and p99 latency of the gateway beside the nginx
responder and the peers that ran, end-to-end latency, drain times, the gateway's resident memory, and import and export
throughput."""
import pathlib
import sys

from .checks import IMPORT_WORKER_PEAK_RSS_MIB, UPLOAD_PEAK_RSS_MIB
from .pip_target import pip_install

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
        pip_install(PACKAGE_DIR, [f"matplotlib=={MATPLOTLIB_VERSION}"])
        if str(PACKAGE_DIR) not in sys.path:
            sys.path.insert(0, str(PACKAGE_DIR))
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def matplotlib_version():
    import matplotlib
    return matplotlib.__version__


# The peers that serve the same routes, and the label of each in the plot.
_PEERS = (("bullmq", "BullMQ"), ("celery-flower", "Celery+Flower"))
# The Beast responder measured next to each nginx responder.
BEAST_RESPONDERS = {"responder-202": "beast-202", "responder-200": "beast-200"}


def _series(results, scenario, reference, peer_target, metric):
    """Return the connection counts and one (name, values) series per system that ran them.

    jobgate's scenario comes first, then the nginx and Beast responders, then each peer that was
    measured at the same connection counts. A system without a figure at some count gets 0 there.
    """
    if scenario not in results:
        return [], []
    entries = results[scenario].measurements
    labels = [str(entry.parameters["connections"]) for entry in entries]
    series = [("jobgate", [entry.median().get(metric, 0.0) for entry in entries])]
    others = [(reference, "nginx responder", "responder"),
              (BEAST_RESPONDERS[reference], "Beast responder", "beast")]
    others += [(name, title, peer_target) for name, title in _PEERS]
    for name, title, target in others:
        if name not in results:
            continue
        values = []
        for entry in entries:
            other = results[name].find(target, entry.label)
            values.append(other.median().get(metric, 0.0) if other is not None else 0.0)
        if any(values):
            series.append((title, values))
    return labels, series


def _bars(axis, labels, series, title, unit):
    positions = range(len(labels))
    width = 0.8 / len(series)
    for index, (name, values) in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * width
        axis.bar([p + offset for p in positions], values, width, label=name)
    axis.set_xticks(list(positions), labels)
    axis.set_xlabel("wrk connections")
    axis.set_ylabel(unit)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    if unit == "requests/s":
        # The responder is often 10 to 100 times faster, which a linear axis flattens.
        axis.set_yscale("log")


def _memory_bars(axis, results, name, bars, panel_title):
    """Draw bars of the given (label, metric) pairs of a memory scenario's first measurement."""
    if name not in results or not results[name].measurements:
        axis.set_title(panel_title + " (not run)", fontsize=10)
        return None
    entry = results[name].measurements[0]
    medians = entry.median()
    axis.bar([label for label, _ in bars], [medians.get(metric, 0.0) for _, metric in bars])
    axis.set_ylabel("MiB")
    axis.set_title(f"{panel_title}, {entry.label}", fontsize=10)
    return medians


def _memory_panels(axes, results):
    axis = axes[0]
    if _memory_bars(axis, results, "upload-memory",
                    [("before", "baseline_rss_mib"), ("peak (VmHWM)", "peak_rss_mib")],
                    "Gateway RSS, import upload"):
        axis.axhline(UPLOAD_PEAK_RSS_MIB, color="tab:red", linestyle="--", linewidth=1,
                     label=f"target {UPLOAD_PEAK_RSS_MIB} MiB")
        axis.legend(fontsize=8)

    medians = _memory_bars(axes[1], results, "connection-memory",
                           [("before", "baseline_rss_mib"), ("all open", "rss_open_mib"),
                            ("after closing", "rss_after_close_mib")],
                           "Gateway RSS, idle keep-alive connections")
    if medians:
        axes[1].set_xlabel(f"{medians.get('kib_per_connection', 0.0):.1f} KiB per connection")
    axes[2].axis("off")


def _by_rows(results, name, metric, rows_parameter="rows"):
    """Return {CSV rows: median of metric} of a result's measurements."""
    if name not in results:
        return {}
    return {entry.parameters[rows_parameter]: entry.median().get(metric, 0.0)
            for entry in results[name].measurements}


def _import_panels(axes, results):
    """Draw rows per second of the import, its references and the export by CSV size, the import's
    seconds per row, and the import worker's peak memory."""
    series = [("jobgate import", _by_rows(results, "import", "rows_per_s")),
              ("redis-cli --pipe", _by_rows(results, "redis-pipe", "rows_per_s")),
              ("Python script", _by_rows(results, "python-import", "rows_per_s")),
              ("jobgate export", _by_rows(results, "export", "rows_per_s", "imported_rows"))]
    sizes = sorted({rows for _, values in series for rows in values})
    axis = axes[0]
    if sizes:
        width = 0.8 / len(series)
        for index, (label, values) in enumerate(series):
            positions = [position + (index - (len(series) - 1) / 2) * width
                         for position, rows in enumerate(sizes) if rows in values]
            axis.bar(positions, [values[rows] for rows in sizes if rows in values], width,
                     label=label)
        axis.set_xticks(range(len(sizes)), [f"{rows:,}" for rows in sizes])
        axis.set_yscale("log")
        axis.legend(fontsize=8)
    axis.set_xlabel("CSV rows")
    axis.set_ylabel("rows/s")
    axis.set_title("Import and export throughput" + ("" if sizes else " (not run)"), fontsize=10)

    axis = axes[1]
    costs = _by_rows(results, "import", "seconds_per_row")
    if costs:
        axis.bar([f"{rows:,}" for rows in sorted(costs)],
                 [costs[rows] * 1e6 for rows in sorted(costs)])
    axis.set_xlabel("CSV rows")
    axis.set_ylabel("µs per row")
    axis.set_title("Import cost per row (flat is linear)" + ("" if costs else " (not run)"),
                   fontsize=10)

    axis = axes[2]
    peaks = _by_rows(results, "import", "worker_peak_rss_mib")
    if peaks:
        rows = max(peaks)
        axis.bar([f"{rows:,} rows"], [peaks[rows]])
        axis.axhline(IMPORT_WORKER_PEAK_RSS_MIB, color="tab:red", linestyle="--", linewidth=1,
                     label=f"target {IMPORT_WORKER_PEAK_RSS_MIB} MiB")
        axis.legend(fontsize=8)
    axis.set_ylabel("MiB")
    axis.set_title("Import worker peak RSS (VmHWM)" + ("" if peaks else " (not run)"),
                   fontsize=10)


def write_plot(results, path, title):
    pyplot = import_pyplot()
    figure, axes = pyplot.subplots(4, 3, figsize=(15, 16.5))
    panels = [
        ("submit", "responder-202", "submit", "requests_per_s",
         "Submit throughput (POST /v1/exports)", "requests/s"),
        ("submit", "responder-202", "submit", "p99_ms", "Submit p99 latency", "ms"),
        ("status-reads", "responder-200", "status-read", "requests_per_s",
         "Status read throughput (GET /v1/jobs/{id})", "requests/s"),
        ("status-reads", "responder-200", "status-read", "p99_ms", "Status read p99 latency",
         "ms"),
    ]
    for axis, (scenario, reference, peer_target, metric, panel_title, unit) in zip(
            axes.flat, panels):
        labels, series = _series(results, scenario, reference, peer_target, metric)
        if labels:
            _bars(axis, labels, series, panel_title, unit)
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

    _memory_panels(axes.flat[6:9], results)
    _import_panels(axes.flat[9:12], results)

    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
