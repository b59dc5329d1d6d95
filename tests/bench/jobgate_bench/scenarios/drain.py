"""Drain time. With the workers stopped, N exports are queued. Then 1, 2 or 4 workers start, and
the clock runs until GET /metrics shows no export pending or running."""
import concurrent.futures
import random
import time

from ..results import Result

NAME = "drain"
SUBMIT_THREADS = 8


def submit_many(stack, count):
    """Queue count exports over SUBMIT_THREADS keep-alive connections; return their ids."""
    def submit_share(share):
        connection = stack.connection()
        try:
            return [connection.submit_export()[0] for _ in range(share)]
        finally:
            connection.close()

    shares = [count // SUBMIT_THREADS + (1 if index < count % SUBMIT_THREADS else 0)
              for index in range(SUBMIT_THREADS)]
    with concurrent.futures.ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        return [job_id for ids in pool.map(submit_share, shares) for job_id in ids]


def drain_once(context, workers, count):
    stack = context.stack()
    # Jobs left by an earlier scenario are finished first, so only this batch is timed.
    if stack.active_exports() > 0:
        stack.set_workers(max(1, len(stack.workers)))
        stack.wait_until_drained(context.sizes.drain_timeout_s)
    stack.set_workers(0)
    ids = submit_many(stack, count)
    started = time.monotonic()
    stack.set_workers(workers)
    finished = stack.wait_until_drained(context.sizes.drain_timeout_s)
    seconds = finished - started
    # The gauges count active jobs only, so a sample confirms the jobs ended as DONE.
    connection = stack.connection()
    not_done = 0
    for job_id in random.sample(ids, min(len(ids), 50)):
        status, _, payload = connection.request("GET", f"/v1/jobs/{job_id}")
        if status != 200 or b'"status":"DONE"' not in payload:
            not_done += 1
    connection.close()
    if not_done:
        raise RuntimeError(f"{not_done} of the sampled jobs are not DONE after the drain")
    return {"seconds": seconds, "jobs_per_s": count / seconds if seconds > 0 else 0.0}


def run(context):
    sizes = context.sizes
    result = Result(NAME, "scenario",
                    "Time from starting the workers (process start and consumer group join "
                    "included) until none of N queued exports is pending or running; each "
                    "worker runs exports only, with the default concurrency.",
                    {"jobs": sizes.drain_jobs, "warmup_jobs": sizes.drain_warmup_jobs})
    for workers in sizes.drain_workers:
        entry = result.measurement("gateway", f"{workers} workers",
                                   {"workers": workers, "jobs": sizes.drain_jobs})
        drain_once(context, workers, sizes.drain_warmup_jobs)
        for repetition in range(sizes.drain_repetitions):
            metrics = drain_once(context, workers, sizes.drain_jobs)
            entry.add_run(metrics)
            context.log(f"{NAME} {workers} workers #{repetition + 1}: {metrics['seconds']:.2f} s "
                        f"({metrics['jobs_per_s']:.0f} jobs/s)")
    context.stack().set_workers(0)
    return [result]
