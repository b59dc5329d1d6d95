"""Statistics, the common result format and the machine description written to results.json.

Every scenario, reference and peer returns a Result: a name, a kind ("scenario", "reference" or
"peer"), a description, its parameters and a list of Measurement entries. A Measurement is one
target at one load level: the metrics of each repetition and their medians.
"""
import dataclasses
import json
import math
import os
import platform
import re
import statistics
import subprocess


def percentile(values, fraction):
    """Return the nearest-rank percentile of values, fraction in [0, 1]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclasses.dataclass
class Measurement:
    target: str
    label: str
    parameters: dict
    runs: list = dataclasses.field(default_factory=list)

    def add_run(self, metrics):
        self.runs.append(dict(metrics))

    def median(self):
        """Returns the median of each metric over the repetitions."""
        names = []
        for run in self.runs:
            names.extend(name for name in run if name not in names)
        medians = {}
        for name in names:
            values = [run[name] for run in self.runs if isinstance(run.get(name), (int, float))]
            if values:
                medians[name] = statistics.median(values)
        return medians

    def to_json(self):
        return {"target": self.target, "label": self.label, "parameters": self.parameters,
                "repetitions": len(self.runs), "runs": self.runs, "median": self.median()}


@dataclasses.dataclass
class Result:
    name: str
    kind: str
    description: str
    parameters: dict = dataclasses.field(default_factory=dict)
    measurements: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    def measurement(self, target, label, parameters):
        entry = Measurement(target, label, dict(parameters))
        self.measurements.append(entry)
        return entry

    def find(self, target, label=None):
        for entry in self.measurements:
            if entry.target == target and (label is None or entry.label == label):
                return entry
        return None

    def has_numbers(self):
        """Tells whether every measurement has at least one run with a finite number."""
        if not self.measurements:
            return False
        for entry in self.measurements:
            medians = entry.median()
            if not any(isinstance(value, (int, float)) and math.isfinite(value)
                       for value in medians.values()):
                return False
        return True

    def to_json(self):
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "parameters": self.parameters, "notes": self.notes,
                "measurements": [entry.to_json() for entry in self.measurements]}


def command_output(arguments):
    try:
        done = subprocess.run(arguments, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


DEBIAN_PACKAGES = ["redis-server", "redis-tools", "nginx-light", "wrk", "librdkafka1",
                   "openjdk-17-jre-headless", "python3-matplotlib", "python3-redis",
                   "libboost1.81-dev", "g++-12"]


def package_versions(extra=None):
    versions = {}
    for package in DEBIAN_PACKAGES:
        version = command_output(["dpkg-query", "-W", "-f=${Version}", package])
        versions[package] = version or None
    versions.update(extra or {})
    return versions


def machine_description(extra_versions=None):
    """Describe the CPU, memory, kernel and package versions of this machine."""
    cpu_model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    free = command_output(["free", "-m"])
    total_mb = None
    match = re.search(r"^Mem:\s+(\d+)", free, re.MULTILINE)
    if match:
        total_mb = int(match.group(1))
    return {
        "cpu_model": cpu_model,
        "nproc": int(command_output(["nproc"]) or os.cpu_count() or 0),
        "memory_total_mb": total_mb,
        "free_m": free,
        "kernel": platform.release(),
        "os": command_output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "packages": package_versions(extra_versions),
    }


def write_json(path, document):
    with open(path, "w", encoding="utf-8") as output:
        json.dump(document, output, indent=2, sort_keys=False)
        output.write("\n")
