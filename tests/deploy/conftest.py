"""Fixtures of the deploy tests: the offline validators and the rendered Kubernetes manifests.

install-tools runs once per session and installs kustomize, kubernetes-validate, hadolint, KEDA's
ScaledObject CRD and docker-compose into .cache/deploy-tools (or checks that they are there).
Only tests that request the deploy_tools fixture, directly or through another fixture, run it.
"""

import os
import subprocess
import sys

import pytest
import yaml

from repo_facts import RENDER_TARGETS, ROOT

INSTALL_SCRIPT = ROOT / "tests" / "deploy" / "install-tools"
K8S_DIR = ROOT / "deploy" / "k8s"


@pytest.fixture(scope="session")
def deploy_tools():
    """Runs install-tools and returns its KEY=value output as a dict."""
    done = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHON": sys.executable})
    if done.returncode != 0:
        pytest.fail(f"tests/deploy/install-tools failed (exit {done.returncode}):\n"
                    + (done.stdout + done.stderr)[-3000:])
    tools = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if tools["PYTHON_PATH"] not in sys.path:
        # Appended, so the machine's own jsonschema and PyYAML keep precedence.
        sys.path.append(tools["PYTHON_PATH"])
    return tools


def render(kustomize, target):
    """Runs `kustomize build` on a folder under deploy/k8s and returns the documents."""
    done = subprocess.run([kustomize, "build", str(K8S_DIR / target)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"kustomize build {target} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="session")
def rendered(deploy_tools):
    """Maps "base", "overlays/dev" and "overlays/prod" to their rendered documents."""
    return {target: render(deploy_tools["KUSTOMIZE"], target) for target in RENDER_TARGETS}
