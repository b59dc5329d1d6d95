"""Resident memory of a process, read from /proc/PID/status, and a sampler that keeps its maximum
while a load runs."""
import threading
import time

MEMORY_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")


def read_memory_kb(pid):
    """Return the VmRSS, VmHWM, RssAnon, RssFile and RssShmem fields of /proc/PID/status in kB."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in MEMORY_FIELDS:
                fields[name] = int(value.split()[0])
    missing = [name for name in MEMORY_FIELDS if name not in fields]
    if missing:
        raise RuntimeError(f"/proc/{pid}/status has no {', '.join(missing)}")
    return fields


def reset_peak(pid):
    """Reset the VmHWM of pid to its current VmRSS (writing 5 to clear_refs, Linux 4.0 or later)."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")


def open_files_limit(pid):
    """Return the soft RLIMIT_NOFILE of pid from /proc/PID/limits."""
    with open(f"/proc/{pid}/limits", encoding="ascii") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise RuntimeError(f"/proc/{pid}/limits has no 'Max open files' line")


def to_mb(kilobytes):
    return kilobytes / 1024


class RssSampler:
    """Reads VmRSS and RssAnon of pid every interval seconds in a thread and keeps the maxima."""

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.interval = interval
        self.max_rss_kb = 0
        self.max_anon_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while True:
            fields = read_memory_kb(self.pid)
            self.max_rss_kb = max(self.max_rss_kb, fields["VmRSS"])
            self.max_anon_kb = max(self.max_anon_kb, fields["RssAnon"])
            self.samples += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exception):
        self._stop.set()
        self._thread.join(timeout=5)
        return False


def settled_rss_kb(pid, samples=5, interval=0.1):
    """Return the median VmRSS of pid over a few samples, for a figure that one sample could skew."""
    values = []
    for index in range(samples):
        if index:
            time.sleep(interval)
        values.append(read_memory_kb(pid)["VmRSS"])
    return sorted(values)[len(values) // 2]
