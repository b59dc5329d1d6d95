"""Offline checks of the Prometheus rules, their unit tests, the example Prometheus configuration
and the Grafana dashboard, with promtool from Debian's prometheus package."""
import json
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "rules" / "jobgate.rules.yml"
RULE_TESTS = PROMETHEUS_DIR / "rules" / "jobgate.rules.test.yml"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
KUBERNETES_CONFIG = PROMETHEUS_DIR / "kubernetes-scrape.yml"
K8S_BASE = ROOT / "deploy" / "k8s" / "base"
DASHBOARD = ROOT / "deploy" / "grafana" / "jobgate-dashboard.json"
SOURCE_DIRS = [ROOT / "common", ROOT / "gateway", ROOT / "worker"]

# Series that Prometheus itself writes for every target.
SCRAPE_SERIES = {"up"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                   "unless", "bool", "offset", "inf", "nan"}

# Grafana's variables in the dashboard, replaced with values that make plain PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$kind": ".*"}


def promtool(*arguments, cwd=None):
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail("promtool is not installed: apt-get install -y prometheus")
    result = subprocess.run([executable, *arguments], cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    return result


def metric_names(expr):
    """Returns the metric names that a PromQL expression selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    # Label lists after grouping and matching keywords name labels, not metrics.
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        following = text[match.end():].lstrip()
        if following.startswith("("):
            continue  # a function or aggregation
        if match.group(0).lower() in PROMQL_KEYWORDS:
            continue
        if match.start() > 0 and (text[match.start() - 1].isdigit() or
                                  text[match.start() - 1] == "."):
            continue  # the unit of a duration or the exponent of a number, as in 1m or 1e3
        names.add(match.group(0))
    return names


def defined_in_sources():
    """Returns every quoted jobgate_* name in the C++ sources of the daemons and the library."""
    names = set()
    for folder in SOURCE_DIRS:
        for path in [*folder.rglob("*.cpp"), *folder.rglob("*.hpp")]:
            names.update(re.findall(r'"(jobgate_[a-z0-9_]+)"', path.read_text(errors="replace")))
    return names


def load_rules():
    with open(RULES) as source:
        return yaml.safe_load(source)


def rules_of(kind):
    return [rule for group in load_rules()["groups"] for rule in group["rules"] if kind in rule]


def dashboard_exprs():
    with open(DASHBOARD) as source:
        dashboard = json.load(source)
    exprs = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            exprs.append((panel["title"], expr))
    return exprs


def undefined_names(exprs):
    """Returns {expr: unknown names} for the expressions that select an unknown metric."""
    known = defined_in_sources() | SCRAPE_SERIES | {rule["record"] for rule in rules_of("record")}
    unknown = {}
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric name found in {expr!r}"
        missing = set()
        for name in names:
            base = name
            for suffix in HISTOGRAM_SUFFIXES:
                if name.endswith(suffix) and name[:-len(suffix)] in known:
                    base = name[:-len(suffix)]
            if base not in known:
                missing.add(name)
        if missing:
            unknown[expr] = sorted(missing)
    return unknown


def test_metric_name_extraction():
    expr = ('sum by (kind, le) (rate(jobgate_a_bucket{kind=~"x|y", le="+Inf"}[5m])) / on (kind) '
            'label_replace(jobgate_b, "kind", "$1", "group", ".*") > 1e3 and up offset 1m')
    assert metric_names(expr) == {"jobgate_a_bucket", "jobgate_b", "up"}


def test_promtool_check_rules():
    result = promtool("check", "rules", "--lint=all", "--lint-fatal", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests():
    # promtool resolves rule_files relative to its working directory.
    result = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_test():
    with open(RULE_TESTS) as source:
        tests = yaml.safe_load(source)["tests"]
    firing = set()
    silent = set()
    for group in tests:
        for case in group.get("alert_rule_test", []):
            (firing if case["exp_alerts"] else silent).add(case["alertname"])
    alerts = {rule["alert"] for rule in rules_of("alert")}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested silent"


def test_every_recording_rule_is_checked():
    with open(RULE_TESTS) as source:
        tests = yaml.safe_load(source)["tests"]
    checked = {case["expr"] for group in tests for case in group.get("promql_expr_test", [])}
    records = {rule["record"] for rule in rules_of("record")}
    assert records - checked == set()


def test_alerts_carry_severity_and_advice():
    for rule in rules_of("alert"):
        name = rule["alert"]
        assert rule.get("for"), f"{name} has no for"
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"], name
        assert len(rule["annotations"]["description"]) > 80, f"{name} gives no advice"


def test_recording_rule_names():
    # level:metric:operations, as Prometheus's naming practice recommends.
    for rule in rules_of("record"):
        assert re.fullmatch(r"[a-z_]+:jobgate_[a-z0-9_]+:[a-z0-9_]+|jobgate:[a-z0-9_]+:[a-z0-9_]+",
                            rule["record"]), rule["record"]


def test_promtool_check_config():
    result = promtool("check", "config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    # The configuration must load the real rules file.
    assert "SUCCESS: 1 rule files found" in result.stdout
    assert f"Checking {RULES}" in result.stdout


def test_config_job_names_match_rules():
    with open(CONFIG) as source:
        config = yaml.safe_load(source)
    jobs = {scrape["job_name"] for scrape in config["scrape_configs"]}
    assert jobs == {"jobgate-gateway", "jobgate-worker"}
    target_down = next(rule for rule in rules_of("alert") if rule["alert"] == "JobgateTargetDown")
    for job in jobs:
        assert job in target_down["expr"]


def test_kubernetes_scrape_jobs_match_rules_and_pods():
    # Debian's promtool is built without Kubernetes discovery, so this file is checked here.
    with open(KUBERNETES_CONFIG) as source:
        config = yaml.safe_load(source)
    with open(CONFIG) as source:
        local_jobs = {scrape["job_name"] for scrape in yaml.safe_load(source)["scrape_configs"]}
    components = set()
    for document in K8S_BASE.glob("*.yaml"):
        for manifest in yaml.safe_load_all(document.read_text()):
            if manifest and manifest.get("kind") == "Deployment":
                labels = manifest["spec"]["template"]["metadata"]["labels"]
                components.add(labels["app.kubernetes.io/component"])
    assert {scrape["job_name"] for scrape in config["scrape_configs"]} == local_jobs
    kept_components = set()
    for scrape in config["scrape_configs"]:
        assert scrape["kubernetes_sd_configs"] == [{"role": "pod"}]
        for relabel in scrape["relabel_configs"]:
            re.compile(relabel.get("regex", ".*"))
        keep = scrape["relabel_configs"][0]
        assert keep["action"] == "keep"
        assert keep["source_labels"] == [
            "__meta_kubernetes_pod_label_app_kubernetes_io_component"]
        kept_components.add(keep["regex"])
    assert kept_components == components


def test_rules_name_defined_metrics():
    exprs = [rule["expr"] for rule in rules_of("record") + rules_of("alert")]
    assert undefined_names(exprs) == {}


def test_dashboard_names_defined_metrics():
    exprs = [expr for _, expr in dashboard_exprs()]
    assert len(exprs) >= 10
    assert undefined_names(exprs) == {}


def test_dashboard_exprs_parse(tmp_path):
    # promtool has no command that parses one expression, so each becomes a recording rule.
    rules = [{"record": f"dashboard:expr:{index}", "expr": expr}
             for index, (_, expr) in enumerate(dashboard_exprs())]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_shape():
    with open(DASHBOARD) as source:
        dashboard = json.load(source)
    assert dashboard["uid"] == "jobgate-overview"
    assert dashboard["title"] == "jobgate"
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "jobgate_jobs_submitted_total" in variables["kind"]["definition"]

    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
