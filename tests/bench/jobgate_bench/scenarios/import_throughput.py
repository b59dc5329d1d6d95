"""Import throughput: contacts CSVs from scripts/generate-contacts sent as POST /v1/imports, one at
a time, each into a tenant without records, with one worker that runs imports only
(jobgate-worker --kinds imports). Rows per second come from the job's startedAt and completedAt.
For the largest file every repetition gets a fresh worker, whose peak resident memory (VmHWM)
then covers one warm-up import and that file."""
from ..import_stack import contacts_csv, import_stack
from ..results import Result

NAME = "import"


def run(context):
    sizes = context.sizes
    stack = import_stack(context)
    largest = max(sizes.import_rows)
    result = Result(NAME, "scenario",
                    "POST /v1/imports of a contacts CSV from scripts/generate-contacts (about 6% "
                    "duplicate addresses, 2% invalid rows, 0.4% blank lines), each repetition into "
                    "a tenant without records, with one worker running imports with its default "
                    "settings. rows_per_s counts the file's data rows over the job's startedAt to "
                    "completedAt, which includes the worker's first pass that counts the rows; "
                    "submit_to_done_s runs from sending the upload to the SSE end event. The "
                    f"{largest}-row repetitions each start a fresh worker and read its VmHWM from "
                    "/proc/PID/status after the job is DONE. Before a repetition the records of "
                    "the previous one of the same size are deleted.",
                    {"sizes": list(sizes.import_rows),
                     "repetitions": list(sizes.import_repetitions)})
    stack.restart_import_worker()
    stack.warm_up_import_worker(context)
    for rows, repetitions in zip(sizes.import_rows, sizes.import_repetitions):
        path = contacts_csv(context, rows)
        entry = result.measurement("gateway", f"{rows} rows",
                                   {"rows": rows, "file_bytes": path.stat().st_size})
        for repetition in range(repetitions):
            if rows == largest:
                stack.restart_import_worker()
                stack.warm_up_import_worker(context)
            # Only the last import of each size keeps its records for the export scenario, so
            # every repetition writes to a Redis that contains about the same data.
            if rows in stack.imported:
                stack.delete_records([stack.imported.pop(rows)[0].name])
            stack.wait_until_idle("imports")
            tenant, metrics, job = stack.import_file(path, rows)
            if rows == largest:
                metrics.update(stack.import_worker_memory())
            entry.add_run(metrics)
            stack.imported[rows] = (tenant, job)
            memory = (f", worker VmHWM {metrics['worker_peak_rss_mib']:.1f} MiB"
                      if "worker_peak_rss_mib" in metrics else "")
            context.log(f"{NAME} {rows} rows #{repetition + 1}: {metrics['rows_per_s']:.0f} rows/s "
                        f"({metrics['seconds']:.2f} s, submit to DONE "
                        f"{metrics['submit_to_done_s']:.2f} s){memory}")
    # A later part of the run may queue imports that no worker is meant to run.
    stack.stop_import_worker()
    return [result]
