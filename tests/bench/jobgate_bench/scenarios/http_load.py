"""The shared wrk loop of the HTTP scenarios: at each connection count, a warm-up load and then
the measured repetitions, against the gateway and against the responder in turn."""
from ..wrk import run_wrk


def measure_levels(context, targets, results, log_name):
    """targets: (name, url, wrk keyword arguments, Result) for each system under load."""
    sizes = context.sizes
    for connections in sizes.connections:
        for target, url, options, result in targets:
            label = f"{connections} connections"
            entry = result.measurement(target, label, {"connections": connections,
                                                        "seconds": sizes.wrk_seconds})
            run_wrk(url, connections, sizes.warmup_seconds, **options)
            for repetition in range(sizes.repetitions):
                metrics = run_wrk(url, connections, sizes.wrk_seconds, **options)
                entry.add_run(metrics)
                context.log(f"{log_name} {target} c={connections} #{repetition + 1}: "
                            f"{metrics['requests_per_s']:.0f} req/s, p50 {metrics['p50_ms']:.2f} "
                            f"ms, p99 {metrics['p99_ms']:.2f} ms, errors {metrics['errors']}")
    return results
