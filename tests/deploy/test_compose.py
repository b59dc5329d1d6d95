"""Checks of deploy/compose/compose.yaml: `docker-compose config` (Debian's docker-compose 1.29)
accepts it, and the normalised configuration agrees with the daemons and the Kubernetes files.
`config` only parses and interpolates the file, so no Docker daemon is needed."""

import os
import re
import subprocess

import pytest
import yaml

import repo_facts

COMPOSE_FILE = repo_facts.ROOT / "deploy" / "compose" / "compose.yaml"
SECRETS = {
    "JOBGATE_API_KEYS": "test-key=test",
    "JOBGATE_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
    "JOBGATE_REDIS_PASSWORD": "test-password",
}
WORKER_SERVICES = {f"worker-{kind}": kind for kind in repo_facts.WORKER_KINDS}
GRACE_SOURCES = {"gateway": "jobgate-gateway",
                 **{service: f"jobgate-{service}" for service in WORKER_SERVICES}}


def run_compose(deploy_tools, variables):
    if not deploy_tools["DOCKER_COMPOSE"]:
        pytest.fail("docker-compose is not installed; tests/deploy/install-tools could not "
                    "install Debian's docker-compose package")
    # Only PATH and HOME pass through, so a JOBGATE_* variable of the caller cannot leak in.
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
                   **variables}
    return subprocess.run([deploy_tools["DOCKER_COMPOSE"], "-f", str(COMPOSE_FILE), "config"],
                          capture_output=True, text=True, timeout=120, env=environment,
                          cwd=COMPOSE_FILE.parent)


def volume_mount(entry):
    """Returns (source, target, read_only) of a volume in short ("a:b:ro") or long syntax."""
    if isinstance(entry, dict):
        return entry.get("source"), entry["target"], entry.get("read_only", False)
    parts = entry.split(":")
    return parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")


def published_host_ip(entry):
    """Returns the host address of a published port in short or long syntax."""
    if isinstance(entry, dict):
        return entry.get("host_ip")
    parts = str(entry).split(":")
    return parts[0] if len(parts) == 3 else None


@pytest.fixture(scope="module")
def compose(deploy_tools):
    """Returns the configuration that `docker-compose config` prints, parsed."""
    done = run_compose(deploy_tools, SECRETS)
    assert done.returncode == 0, f"docker-compose config rejected the file:\n{done.stderr}"
    return yaml.safe_load(done.stdout)


def test_compose_config_accepts_file(compose):
    expected = {"redis", "kafka", "kafka-topics", "gateway"} | set(WORKER_SERVICES)
    assert set(compose["services"]) == expected


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_requires_each_secret(deploy_tools, missing):
    variables = {name: value for name, value in SECRETS.items() if name != missing}
    done = run_compose(deploy_tools, variables)
    assert done.returncode != 0, f"config passed without {missing}"
    assert missing in done.stderr


def test_redis_keeps_jobs(compose):
    command = compose["services"]["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2]))
    assert command[0] == "redis-server"
    assert options["--appendonly"] == "yes"
    assert options["--maxmemory-policy"] == "noeviction"
    assert options["--requirepass"] == SECRETS["JOBGATE_REDIS_PASSWORD"]
    gateway_url = compose["services"]["gateway"]["environment"]["JOBGATE_REDIS_URL"]
    assert f":{SECRETS['JOBGATE_REDIS_PASSWORD']}@redis:" in gateway_url


def test_kafka_runs_single_kraft_node(compose):
    kafka = compose["services"]["kafka"]
    environment = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert str(environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == "1"
    assert [volume_mount(v)[0] for v in kafka["volumes"]] == ["kafka-data"]


def test_topics_match_local_stack(compose):
    script = " ".join(compose["services"]["kafka-topics"]["command"])
    created = {name: int(count) for name, count in re.findall(r"(jobgate\.[\w.-]+):(\d+)", script)}
    assert created == repo_facts.topic_partitions()
    assert "--if-not-exists" in script


def test_services_wait_for_dependencies(compose):
    services = compose["services"]
    assert services["kafka-topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ["gateway", *WORKER_SERVICES]:
        depends_on = services[name]["depends_on"]
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert depends_on["kafka-topics"]["condition"] == "service_completed_successfully", name
    for name in ["redis", "kafka", "gateway", *WORKER_SERVICES]:
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"


def test_daemons_share_blob_volume(compose):
    services = compose["services"]
    for name in ["gateway", *WORKER_SERVICES]:
        service = services[name]
        blob_dir = service["environment"]["JOBGATE_BLOB_DIR"]
        mounts = [volume_mount(v) for v in service["volumes"] if volume_mount(v)[1] == blob_dir]
        assert mounts == [("blobs", blob_dir, False)], f"{name} does not mount blobs at {blob_dir}"
        assert service["read_only"] is True, name
    assert "blobs" in compose["volumes"]


def test_compose_variables_exist(compose):
    services = compose["services"]
    for name in ["gateway", *WORKER_SERVICES]:
        daemon = "gateway" if name == "gateway" else "worker"
        known = repo_facts.daemon_variables(daemon)
        unknown = sorted(v for v in services[name]["environment"] if v not in known)
        assert not unknown, f"{name} sets {unknown}, which jobgate-{daemon} does not read"


def test_workers_one_service_per_kind(compose):
    services = compose["services"]
    for name, kind in WORKER_SERVICES.items():
        assert services[name]["command"] == ["--kinds", kind]
        assert services[name]["build"]["target"] == "worker"
    assert services["gateway"]["build"]["target"] == "gateway"


def test_gateway_published_on_loopback(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert published_host_ip(port) == "127.0.0.1", f"{name} publishes {port} widely"


def test_grace_periods_match_kubernetes(compose, rendered):
    deployments = {doc["metadata"]["name"]: doc for doc in rendered["base"]
                   if doc["kind"] == "Deployment"}
    for service, deployment in GRACE_SOURCES.items():
        grace = compose["services"][service]["stop_grace_period"]
        expected = deployments[deployment]["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"]
        assert grace == f"{expected}s", f"{service}: {grace}, Kubernetes: {expected}s"
