"""Schema validation of the rendered Kubernetes manifests, offline.

Built-in kinds are checked with kubernetes-validate's strict schemas (unknown fields are errors,
as with `kubectl apply --validate=strict`). ScaledObjects are checked with the openAPIV3Schema of
KEDA's CRD, closed the same way. Both validators are first shown to reject a broken document, so
a validator that accepts everything cannot make these tests pass.
"""

import copy

import jsonschema
import pytest
import yaml

from repo_facts import RENDER_TARGETS

# The oldest and the newest Kubernetes minor versions the manifests are meant for.
KUBERNETES_VERSIONS = ("1.30", "1.33")


@pytest.fixture(scope="module")
def kubernetes_validate(deploy_tools):
    import kubernetes_validate
    return kubernetes_validate


def close_schema(schema):
    """Returns a copy of a CRD schema in which objects with listed properties reject others.

    The API server drops unknown fields of a structural schema, or rejects them under strict
    field validation. Plain JSON Schema would accept them, so the copy closes those objects."""
    schema = copy.deepcopy(schema)

    def visit(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node
                    and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            if node.get("x-kubernetes-int-or-string"):
                node.pop("type", None)
                node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


@pytest.fixture(scope="module")
def scaledobject_validator(deploy_tools):
    with open(deploy_tools["KEDA_SCALEDOBJECT_CRD"]) as crd_file:
        crd = yaml.safe_load(crd_file)
    assert crd["spec"]["names"]["kind"] == "ScaledObject"
    versions = {version["name"]: version for version in crd["spec"]["versions"]}
    assert "v1alpha1" in versions, f"KEDA's CRD has no v1alpha1, only {sorted(versions)}"
    schema = close_schema(versions["v1alpha1"]["schema"]["openAPIV3Schema"])
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_validators_reject_broken_documents(rendered, kubernetes_validate,
                                            scaledobject_validator):
    deployment = copy.deepcopy(next(doc for doc in rendered["overlays/prod"]
                                    if doc["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)

    deployment = copy.deepcopy(deployment)
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 30
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)

    scaled = copy.deepcopy(next(doc for doc in rendered["overlays/prod"]
                                if doc["kind"] == "ScaledObject"))
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 2
    assert list(scaledobject_validator.iter_errors(scaled)), "a numeric metadata value passed"
    scaled = copy.deepcopy(scaled)
    scaled["spec"]["maxReplicas"] = 6
    assert list(scaledobject_validator.iter_errors(scaled)), "an unknown spec field passed"


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_manifests_match_kubernetes_schemas(rendered, kubernetes_validate, target):
    failures = []
    for doc in rendered[target]:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(item) for item in error.path)
                failures.append(f"{name} on {version}: {path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                failures.append(f"{name}: {error.message}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_scaledobjects_match_keda_crd(rendered, scaledobject_validator, target):
    scaled_objects = [doc for doc in rendered[target] if doc["kind"] == "ScaledObject"]
    assert len(scaled_objects) == 3, "expected one ScaledObject per worker kind"
    failures = []
    for doc in scaled_objects:
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
        for error in scaledobject_validator.iter_errors(doc):
            path = ".".join(str(item) for item in error.path)
            failures.append(f"ScaledObject/{doc['metadata']['name']}: {path}: {error.message}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("target", RENDER_TARGETS)
def test_only_known_kinds_rendered(rendered, target):
    kinds = {doc["kind"] for doc in rendered[target]}
    expected = {"ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Deployment", "Service",
                "HorizontalPodAutoscaler", "PodDisruptionBudget", "ScaledObject"}
    if target != "base":
        expected.add("Namespace")
    if target == "overlays/dev":
        expected.add("Secret")
    assert kinds == expected
