"""The Celery app of the celery-flower peer in tests/bench: one task, "export", that finishes at
once with an empty result. Flower and the worker load it with `celery --app celery_peer`.

BENCH_REDIS_PORT names the peer's own redis-server: database 0 is the broker and database 1 the
result backend.
"""
import os

from celery import Celery

_redis = f"redis://127.0.0.1:{os.environ['BENCH_REDIS_PORT']}"

app = Celery("celery_peer", broker=f"{_redis}/0", backend=f"{_redis}/1")
app.conf.update(
    # jobgate keeps a finished job for 72 hours (job-retention), so results are kept as long.
    result_expires=72 * 3600,
    # Celery's optimizing guide: many short tasks run faster with a large prefetch multiplier.
    worker_prefetch_multiplier=64,
    worker_disable_rate_limits=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)


@app.task(name="export")
def export(request):
    """Finish an export request at once, as jobgate's export of a tenant without records does."""
    return {"rowsProcessed": 0, "rowsTotal": 0}
