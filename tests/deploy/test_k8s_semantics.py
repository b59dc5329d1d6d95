"""Checks of the rendered Kubernetes manifests that schemas cannot express: agreement with the
daemons' sources (topics, consumer groups, settings, shutdown limits) and among the manifests."""

import re

import pytest

import repo_facts
from repo_facts import RENDER_TARGETS

# Keys of the Secret jobgate-secrets that production creates outside the manifests.
EXTERNAL_SECRET = "jobgate-secrets"
EXTERNAL_SECRET_KEYS = {"JOBGATE_API_KEYS", "JOBGATE_SIGNING_SECRET", "JOBGATE_REDIS_URL"}
# An estimate of the time kube-proxy and ingress controllers take to drop a terminating pod.
ENDPOINT_REMOVAL_SECONDS = 5
PROMETHEUS_QUERY = 'max(jobgate_rows_remaining{kind="imports"})'
UNIT_FACTORS = {"": 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
                "k": 1e3, "M": 1e6, "G": 1e9}


def named(docs, kind):
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_spec(deployment):
    return deployment["spec"]["template"]["spec"]


def only_container(deployment):
    containers = pod_spec(deployment)["containers"]
    name = deployment["metadata"]["name"]
    assert len(containers) == 1, f"{name} has {len(containers)} containers"
    return containers[0]


def daemon_of(deployment):
    return "gateway" if deployment["metadata"]["name"] == "jobgate-gateway" else "worker"


def environment(docs, container):
    """Returns the container's environment as {name: value}, with None for values from a Secret."""
    config_maps = named(docs, "ConfigMap")
    secrets = named(docs, "Secret")
    values = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            values.update(config_maps[source["configMapRef"]["name"]]["data"])
        else:
            name = source["secretRef"]["name"]
            keys = secrets[name].get("data", {}) if name in secrets else EXTERNAL_SECRET_KEYS
            values.update({key: None for key in keys})
    for variable in container.get("env", []):
        values[variable["name"]] = variable.get("value")
    return values


def setting(docs, deployment, variable, default):
    value = environment(docs, only_container(deployment)).get(variable)
    return default if value is None else value


def prestop_seconds(container):
    pre_stop = container["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"]["seconds"])
    command = pre_stop["exec"]["command"]
    assert re.fullmatch(r"(/bin/)?sleep", command[0]), f"preStop is not a sleep: {command}"
    return int(command[1])


def quantity(text):
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text))
    assert match and match.group(2) in UNIT_FACTORS, f"unexpected quantity {text!r}"
    return float(match.group(1)) * UNIT_FACTORS[match.group(2)]


def kafka_trigger(scaled_object):
    triggers = [t for t in scaled_object["spec"]["triggers"] if t["type"] == "kafka"]
    assert len(triggers) == 1, f"{scaled_object['metadata']['name']} needs one kafka trigger"
    return triggers[0]


def worker_name(kind):
    return f"jobgate-worker-{kind}"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_worker_deployment_per_kind(rendered, target):
    deployments = named(rendered[target], "Deployment")
    scaled_objects = named(rendered[target], "ScaledObject")
    workers = {worker_name(kind) for kind in repo_facts.WORKER_KINDS}
    assert set(deployments) == {"jobgate-gateway"} | workers
    for kind in repo_facts.WORKER_KINDS:
        container = only_container(deployments[worker_name(kind)])
        assert container["args"] == ["--kinds", kind]
        target_ref = scaled_objects[worker_name(kind)]["spec"]["scaleTargetRef"]
        assert target_ref["name"] == worker_name(kind)
        assert target_ref.get("kind", "Deployment") == "Deployment"
        assert "replicas" not in deployments[worker_name(kind)]["spec"], "KEDA owns the count"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_kafka_trigger_names_topic_and_group(rendered, target):
    docs = rendered[target]
    deployments = named(docs, "Deployment")
    for kind in repo_facts.WORKER_KINDS:
        deployment = deployments[worker_name(kind)]
        metadata = kafka_trigger(named(docs, "ScaledObject")[worker_name(kind)])["metadata"]
        prefix = setting(docs, deployment, "JOBGATE_GROUP_PREFIX",
                         repo_facts.default_group_prefix())
        brokers = setting(docs, deployment, "JOBGATE_KAFKA_BROKERS", None)
        assert metadata["topic"] == repo_facts.topic_of_kind(kind)
        assert metadata["consumerGroup"] == f"{prefix}.{kind}"
        assert metadata["bootstrapServers"] == brokers
        assert int(metadata["lagThreshold"]) > 0
        assert int(metadata["activationLagThreshold"]) >= 0
        assert metadata.get("offsetResetPolicy") == "earliest", "workers read from the earliest"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_max_replicas_within_partitions(rendered, target):
    docs = rendered[target]
    partitions = repo_facts.topic_partitions()
    for kind in repo_facts.WORKER_KINDS:
        deployment = named(docs, "Deployment")[worker_name(kind)]
        spec = named(docs, "ScaledObject")[worker_name(kind)]["spec"]
        # Each import or export slot is a consumer, and a webhooks worker has one event consumer.
        consumers = 1 if kind == "webhooks" else int(setting(docs, deployment,
                                                             "JOBGATE_CONCURRENCY", "2"))
        topic = repo_facts.topic_of_kind(kind)
        assert topic in partitions, f"deploy/local/services creates no topic {topic}"
        assert spec["maxReplicaCount"] * consumers <= partitions[topic], (
            f"{kind}: {spec['maxReplicaCount']} replicas * {consumers} consumers exceed the "
            f"{partitions[topic]} partitions of {topic}")
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_probes_use_exposed_ports(rendered, target):
    docs = rendered[target]
    expected_paths = {"gateway": ("/healthz", "/readyz"), "worker": ("/healthz", "/healthz")}
    port_settings = {"gateway": "JOBGATE_HTTP_PORT", "worker": "JOBGATE_METRICS_PORT"}
    for name, deployment in named(docs, "Deployment").items():
        daemon = daemon_of(deployment)
        container = only_container(deployment)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        listening = int(setting(docs, deployment, port_settings[daemon], None))
        for probe_name, path in zip(("livenessProbe", "readinessProbe"), expected_paths[daemon]):
            probe = container[probe_name]["httpGet"]
            port = ports.get(probe["port"], probe["port"])
            assert probe["path"] == path, f"{name} {probe_name}"
            assert port == listening, f"{name} {probe_name} probes {port}, daemon listens on " \
                                      f"{listening} ({port_settings[daemon]})"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert int(annotations["prometheus.io/port"]) == listening, f"{name} scrape port"
        assert annotations["prometheus.io/path"] == "/metrics"

    service = named(docs, "Service")["jobgate-gateway"]
    gateway_ports = {p["name"] for p in only_container(named(docs, "Deployment")["jobgate-gateway"])
                     ["ports"]}
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in gateway_ports, f"Service targets unknown port {port}"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_grace_period_exceeds_drain(rendered, target):
    docs = rendered[target]
    limits = repo_facts.shutdown_constants()
    for name, deployment in named(docs, "Deployment").items():
        grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
        pre_stop = prestop_seconds(only_container(deployment))
        if name == "jobgate-gateway":
            # The gateway drains after SIGTERM, so preStop only waits for endpoint removal.
            assert pre_stop >= ENDPOINT_REMOVAL_SECONDS, "preStop too short for endpoint removal"
            drain = (int(setting(docs, deployment, "JOBGATE_SHUTDOWN_TIMEOUT", None))
                     + limits["gateway_producer_close"])
        elif name == worker_name("webhooks"):
            connect = int(setting(docs, deployment, "JOBGATE_WEBHOOK_CONNECT_TIMEOUT", None))
            response = int(setting(docs, deployment, "JOBGATE_WEBHOOK_RESPONSE_TIMEOUT", None))
            drain = (max(limits["dispatcher_drain"], (connect + response) / 1000)
                     + limits["producer_close"])
        else:
            progress = int(setting(docs, deployment, "JOBGATE_PROGRESS_INTERVAL", None)) / 1000
            drain = progress + limits["event_timeout"] + limits["producer_close"]
        assert grace > pre_stop + drain, (
            f"{name}: terminationGracePeriodSeconds {grace} must exceed preStop {pre_stop} s "
            f"+ drain {drain} s")


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_settings_variables_exist(rendered, target):
    docs = rendered[target]
    for name, deployment in named(docs, "Deployment").items():
        known = repo_facts.daemon_variables(daemon_of(deployment))
        used = environment(docs, only_container(deployment))
        unknown = sorted(v for v in used if v.startswith("JOBGATE_") and v not in known)
        assert not unknown, f"{name} sets {unknown}, which {daemon_of(deployment)} does not read"
        assert all(v.startswith("JOBGATE_") for v in used), f"{name}: {sorted(used)}"
        assert used.get("JOBGATE_REDIS_URL", "") is None, f"{name}: Redis URL not from a Secret"
    gateway_secrets = EXTERNAL_SECRET_KEYS - {"JOBGATE_REDIS_URL"}
    for variable in gateway_secrets:
        value = environment(docs, only_container(named(docs, "Deployment")["jobgate-gateway"]))
        assert value.get(variable, "") is None, f"{variable} must come from a Secret"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_secret_references_resolve(rendered, target):
    docs = rendered[target]
    secrets = named(docs, "Secret")
    for name, deployment in named(docs, "Deployment").items():
        container = only_container(deployment)
        references = [(s["secretRef"]["name"], None) for s in container.get("envFrom", [])
                      if "secretRef" in s]
        key_references = [v["valueFrom"]["secretKeyRef"] for v in container.get("env", [])
                          if "secretKeyRef" in v.get("valueFrom", {})]
        references += [(ref["name"], ref["key"]) for ref in key_references]
        assert references, f"{name} reads no Secret"
        for secret, key in references:
            if target == "overlays/dev":
                assert secret in secrets, f"{name} refers to {secret}, which dev does not render"
                assert key is None or key in secrets[secret]["data"]
                assert set(secrets[secret]["data"]) == EXTERNAL_SECRET_KEYS
            else:
                assert secret == EXTERNAL_SECRET
                assert key is None or key in EXTERNAL_SECRET_KEYS


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_blob_volume_shared(rendered, target):
    docs = rendered[target]
    claims = named(docs, "PersistentVolumeClaim")
    assert list(claims) == ["jobgate-blobs"]
    assert claims["jobgate-blobs"]["spec"]["accessModes"] == ["ReadWriteMany"]
    for name, deployment in named(docs, "Deployment").items():
        volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
        blob_dir = setting(docs, deployment, "JOBGATE_BLOB_DIR", None)
        mounts = [mount for mount in only_container(deployment)["volumeMounts"]
                  if mount["mountPath"] == blob_dir]
        assert len(mounts) == 1, f"{name} does not mount {blob_dir}"
        assert not mounts[0].get("readOnly", False)
        claim = volumes[mounts[0]["name"]]["persistentVolumeClaim"]["claimName"]
        assert claim == "jobgate-blobs", f"{name} mounts {claim}"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_pods_run_hardened(rendered, target):
    for name, deployment in named(rendered[target], "Deployment").items():
        pod = pod_spec(deployment)
        container = only_container(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name
        assert pod["securityContext"]["fsGroup"] == 10001, f"{name}: blobs need a shared group"
        assert pod["automountServiceAccountToken"] is False, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request = quantity(resources["requests"][resource])
            limit = quantity(resources["limits"][resource])
            assert 0 < request <= limit, f"{name} {resource}: request {request} > limit {limit}"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_autoscaler_and_budgets_target_deployments(rendered, target):
    docs = rendered[target]
    deployments = named(docs, "Deployment")
    autoscalers = named(docs, "HorizontalPodAutoscaler")
    assert list(autoscalers) == ["jobgate-gateway"], "workers scale through KEDA only"
    hpa = autoscalers["jobgate-gateway"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": "jobgate-gateway"}
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]

    budgets = named(docs, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        assert name in budgets, f"{name} has no PodDisruptionBudget"
        selector = budgets[name]["spec"]["selector"]["matchLabels"]
        matched = [n for n, d in deployments.items()
                   if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert matched == [name], f"PodDisruptionBudget {name} selects {matched}"
        assert deployment["spec"]["selector"]["matchLabels"].items() <= \
            deployment["spec"]["template"]["metadata"]["labels"].items()


def test_names_and_images_consistent(rendered):
    def identities(target):
        return {(doc["kind"], doc["metadata"]["name"]) for doc in rendered[target]
                if doc["kind"] not in ("Namespace", "Secret")}

    assert identities("overlays/dev") == identities("base")
    assert identities("overlays/prod") == identities("base")
    for target in RENDER_TARGETS:
        docs = rendered[target]
        namespaces = {doc["metadata"].get("namespace") for doc in docs
                      if doc["kind"] != "Namespace"}
        assert len(namespaces) == 1, f"{target} mixes namespaces {namespaces}"
        images = {name: only_container(d)["image"] for name, d in named(docs, "Deployment").items()}
        gateway_image = images.pop("jobgate-gateway")
        worker_images = set(images.values())
        assert len(worker_images) == 1, f"{target}: workers use {worker_images}"
        worker_image = worker_images.pop()
        assert gateway_image.rsplit(":", 1)[0].endswith("jobgate-gateway")
        assert worker_image.rsplit(":", 1)[0].endswith("jobgate-worker")
        if target != "base":
            gateway_tag = gateway_image.rsplit(":", 1)[1]
            assert gateway_tag == worker_image.rsplit(":", 1)[1], "gateway and workers differ"
            assert gateway_tag != "latest"


def test_dev_runs_one_replica_each(rendered):
    docs = rendered["overlays/dev"]
    hpa = named(docs, "HorizontalPodAutoscaler")["jobgate-gateway"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 1)
    for name, scaled_object in named(docs, "ScaledObject").items():
        spec = scaled_object["spec"]
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 1), name


def test_prod_scales_beyond_dev(rendered):
    dev, prod = rendered["overlays/dev"], rendered["overlays/prod"]
    dev_hpa = named(dev, "HorizontalPodAutoscaler")["jobgate-gateway"]["spec"]
    prod_hpa = named(prod, "HorizontalPodAutoscaler")["jobgate-gateway"]["spec"]
    assert prod_hpa["minReplicas"] > dev_hpa["minReplicas"]
    assert prod_hpa["maxReplicas"] > dev_hpa["maxReplicas"]
    for name, scaled_object in named(prod, "ScaledObject").items():
        dev_spec = named(dev, "ScaledObject")[name]["spec"]
        assert scaled_object["spec"]["maxReplicaCount"] > dev_spec["maxReplicaCount"], name
    for name, deployment in named(prod, "Deployment").items():
        prod_limits = only_container(deployment)["resources"]["limits"]
        dev_limits = only_container(named(dev, "Deployment")[name])["resources"]["limits"]
        for resource in ("cpu", "memory"):
            assert quantity(prod_limits[resource]) > quantity(dev_limits[resource]), name


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_rows_remaining_trigger_only_in_prod(rendered, target):
    for name, scaled_object in named(rendered[target], "ScaledObject").items():
        triggers = [t for t in scaled_object["spec"]["triggers"] if t["type"] == "prometheus"]
        if target == "overlays/prod" and name == worker_name("imports"):
            assert len(triggers) == 1
            metadata = triggers[0]["metadata"]
            assert metadata["query"] == PROMETHEUS_QUERY
            assert float(metadata["threshold"]) > 0
            assert metadata["serverAddress"].startswith("http")
        else:
            assert triggers == [], f"{target} {name} has a prometheus trigger"
