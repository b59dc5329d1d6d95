"""A real Prometheus server scrapes a stack of its own, loads deploy/prometheus's rules and
returns the counters of a known set of jobs through its HTTP API."""
import json
import pathlib
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from conftest import ROOT, free_port
from test_metrics import worker_metrics_url

RULES = ROOT / "deploy" / "prometheus" / "rules" / "jobgate.rules.yml"
RULE_GROUPS = {"jobgate.jobs", "jobgate.http", "jobgate.alerts"}
# Every wait of this test ends after this many seconds.
MAX_WAIT = 60


class Prometheus:
    """A prometheus process on a free loopback port with its own data folder."""

    def __init__(self, workdir, gateway_target, worker_target):
        executable = shutil.which("prometheus")
        if executable is None:
            pytest.fail("prometheus is not installed: apt-get install -y prometheus")
        self.workdir = pathlib.Path(workdir)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {"job_name": "jobgate-gateway", "static_configs": [{"targets": [gateway_target]}]},
                {"job_name": "jobgate-worker", "static_configs": [{"targets": [worker_target]}]},
            ],
        }
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "prometheus.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [executable, f"--config.file={config_path}",
                 f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT)

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def wait_ready(self):
        deadline = time.monotonic() + MAX_WAIT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "prometheus exited:\n" + self.log()
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("prometheus did not become ready:\n" + self.log())

    def query(self, expr):
        """Returns {labels as a sorted tuple: value} of an instant query."""
        answer = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        assert answer["status"] == "success", answer
        assert answer["data"]["resultType"] == "vector", answer
        return {tuple(sorted(sample["metric"].items())): float(sample["value"][1])
                for sample in answer["data"]["result"]}

    def wait_for(self, expr, predicate, expectation):
        """Polls expr until predicate accepts its result, then returns that result."""
        deadline = time.monotonic() + MAX_WAIT
        while True:
            result = self.query(expr)
            if predicate(result):
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{expectation}: {expr} is still {result}\n" + self.log())
            time.sleep(0.5)

    def wait_for_value(self, expr, value):
        result = self.wait_for(expr, lambda samples: list(samples.values()) == [value],
                               f"expected one sample {value}")
        return list(result.values())[0]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def scraped_stack(make_stack, tmp_path):
    """A stack of this test's own, so the gateway's counters count only this test's jobs."""
    stack = make_stack(worker_count=1)
    worker_target = urllib.parse.urlsplit(worker_metrics_url(stack)).netloc
    gateway_target = urllib.parse.urlsplit(stack.url).netloc
    prometheus = Prometheus(tmp_path, gateway_target, worker_target)
    try:
        prometheus.wait_ready()
        yield stack, prometheus
    finally:
        prometheus.stop()


def submit_export(client, name):
    response = client.post_json("/v1/exports", {"objectType": "contacts",
                                                "properties": ["email"], "name": name})
    assert response.status == 202, response.body
    return response.header("Location")


def test_prometheus_scrapes_known_jobs(scraped_stack):
    stack, prometheus = scraped_stack
    client = stack.new_client()

    # Both targets are up before any job exists.
    up = prometheus.wait_for('up{job=~"jobgate-gateway|jobgate-worker"}',
                             lambda samples: len(samples) == 2 and
                             all(value == 1 for value in samples.values()),
                             "expected two targets up")
    assert sorted(dict(labels)["job"] for labels in up) == ["jobgate-gateway", "jobgate-worker"]

    # One export first: a counter's series appears at its first increment, so Prometheus must
    # see it at 1 before it reaches 3, or rate() finds no increase.
    first = submit_export(client, "prometheus 0")
    assert client.wait(first)["status"] == "DONE"
    assert prometheus.wait_for_value('jobgate_jobs_submitted_total{kind="exports"}', 1) == 1
    assert prometheus.wait_for_value(
        'jobgate_jobs_finished_total{kind="exports",status="DONE"}', 1) == 1
    rest = [submit_export(client, f"prometheus {index}") for index in (1, 2)]
    for location in rest:
        assert client.wait(location)["status"] == "DONE"
    response = client.submit_import(b"email\r\nprom@example.com\r\n", {"objectType": "contacts"})
    assert response.status == 202, response.body
    assert client.wait(response.header("Location"))["status"] == "DONE"

    submitted = prometheus.wait_for_value('jobgate_jobs_submitted_total{kind="exports"}', 3)
    assert submitted == 3
    imports = prometheus.wait_for_value('jobgate_jobs_submitted_total{kind="imports"}', 1)
    assert imports == 1
    accepted = prometheus.wait_for_value(
        'jobgate_http_requests_total{route="/v1/exports",method="POST",status="202"}', 3)
    assert accepted == 3
    done = prometheus.wait_for_value(
        'jobgate_jobs_finished_total{kind="exports",status="DONE"}', 3)
    assert done == 3
    started = prometheus.wait_for_value('jobgate_jobs_started_total{kind="exports"}', 3)
    assert started == 3

    # The Redis-wide totals come through the gateway and its recording rule.
    assert prometheus.wait_for_value("jobgate_job_totals_up", 1) == 1
    pending = prometheus.wait_for('kind:jobgate_jobs_pending:max',
                                  lambda samples: len(samples) == 2,
                                  "expected pending totals for imports and exports")
    assert sorted(dict(labels)["kind"] for labels in pending) == ["exports", "imports"]
    # The stack's worker reports its slots to Redis; workers of earlier tests may still count.
    fleet = prometheus.wait_for('kind:jobgate_fleet_workers:max{kind="exports"}',
                                lambda samples: len(samples) == 1 and
                                list(samples.values())[0] >= 1,
                                "expected at least one live exports worker")
    assert list(fleet.values())[0] >= 1

    # Recording rules: exports were submitted, none failed, and every slot is idle again.
    rate = prometheus.wait_for('kind:jobgate_jobs_submitted:rate5m{kind="exports"}',
                               lambda samples: len(samples) == 1 and
                               list(samples.values())[0] > 0,
                               "expected a positive submit rate")
    assert list(rate.values())[0] > 0
    assert prometheus.wait_for_value('kind:jobgate_jobs_failed:ratio_rate5m{kind="exports"}',
                                     0) == 0
    assert prometheus.wait_for_value('kind:jobgate_worker_slots:utilisation{kind="exports"}',
                                     0) == 0

    # The rules file loaded and every rule evaluated without an error.
    def all_rules_ok():
        groups = prometheus.get("/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return groups, rules, rules and all(rule["health"] == "ok" for rule in rules)

    deadline = time.monotonic() + MAX_WAIT
    groups, rules, healthy = all_rules_ok()
    while not healthy and time.monotonic() < deadline:
        time.sleep(0.5)
        groups, rules, healthy = all_rules_ok()
    assert {group["name"] for group in groups} == RULE_GROUPS
    assert {group["file"] for group in groups} == {str(RULES)}
    unhealthy = [(rule["name"], rule["health"], rule.get("lastError")) for rule in rules
                 if rule["health"] != "ok"]
    assert unhealthy == []
    with open(RULES) as source:
        expected = sum(len(group["rules"]) for group in yaml.safe_load(source)["groups"])
    assert len(rules) == expected


def test_stopped_worker_raises_target_down(scraped_stack):
    stack, prometheus = scraped_stack
    prometheus.wait_for('up{job="jobgate-worker"}', lambda samples: list(samples.values()) == [1],
                        "expected the worker up")

    worker = stack.workers[0]
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    prometheus.wait_for('up{job="jobgate-worker"}', lambda samples: list(samples.values()) == [0],
                        "expected the worker down")

    # The alert waits 2 minutes before it fires, so a pending alert is what this test can see.
    deadline = time.monotonic() + MAX_WAIT
    while True:
        alerts = [alert for alert in prometheus.get("/api/v1/alerts")["data"]["alerts"]
                  if alert["labels"]["alertname"] == "JobgateTargetDown"]
        if alerts or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(alerts) == 1, prometheus.log()
    assert alerts[0]["state"] == "pending"
    assert alerts[0]["labels"]["job"] == "jobgate-worker"
    assert alerts[0]["labels"]["severity"] == "critical"
