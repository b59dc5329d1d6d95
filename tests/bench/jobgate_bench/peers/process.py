"""The child processes of a peer: each writes its output to a log file in the run's work directory
and stops on SIGTERM."""
import hashlib
import pathlib
import signal
import subprocess
import time
import urllib.error
import urllib.request

from ..scenarios.http_load import measure_levels


class PeerProcess:
    def __init__(self, name, arguments, env, workdir, cwd=None):
        self.name = name
        self.log_path = pathlib.Path(workdir) / f"{name}.log"
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(arguments, env=env, cwd=cwd, stdout=log,
                                            stderr=subprocess.STDOUT)
        finally:
            log.close()

    def log_tail(self, size=3000):
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-size:]

    def wait_until(self, ready, action, timeout=30):
        """Poll ready() until it returns true; raise when the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode} "
                                   f"before it could {action}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not {action} within {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout=20):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def responds(url):
    """Tell whether GET url gets any HTTP response."""
    try:
        urllib.request.urlopen(url, timeout=1).read()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_until_finished(ids, is_finished, timeout):
    """Poll is_finished(id) for every id until all return true, or raise after timeout seconds."""
    pending = list(ids)
    deadline = time.monotonic() + timeout
    while pending:
        pending = [job_id for job_id in pending if not is_finished(job_id)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} of {len(ids)} jobs not finished after {timeout} s, "
                               f"for example {pending[0]}")
        time.sleep(0.05)


def file_digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def measure_peer(context, result, name, url, status, submit):
    """Load the peer's status route, then its submit route, as the status-read and submit
    scenarios load the gateway. status and submit are run_wrk keyword arguments, and status has
    "ids" (the finished jobs to read) in place of "ids_file"."""
    status = dict(status)
    ids_file = pathlib.Path(context.workdir) / f"{name}-status-ids.txt"
    ids_file.write_text("\n".join(status.pop("ids")) + "\n")
    status["ids_file"] = ids_file
    measure_levels(context, [("status-read", url, status, result)], [result], name)
    measure_levels(context, [("submit", url, submit, result)], [result], name)
