"""Contract test: Schemathesis loads the OpenAPI document that a live gateway serves and sends the
requests it generates from it, multipart imports included, and the call chains that the document's
links describe. It checks every response against the document with all of its checks."""
import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

from conftest import ROOT

SCHEMATHESIS_VERSION = "4.32.5"
# Installed the way scripts/check-openapi installs its validator; git ignores .cache.
VENV = ROOT / ".cache" / f"schemathesis-{SCHEMATHESIS_VERSION}"
HOOKS = ROOT / "tests" / "e2e" / "schemathesis_hooks.py"
SEED = 20260101
# Test cases per operation in each generating phase. With 150, the Schemathesis run took about
# 80 s on a 2-core machine that other builds shared.
MAX_EXAMPLES = 150
# Bounds the run, so a gateway that stops responding fails the test instead of hanging it.
RUN_TIMEOUT_SECONDS = 300


def run_quietly(command, timeout):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def schemathesis_binary():
    """Returns the pinned Schemathesis CLI, installing it into VENV first when it is missing."""
    binary = VENV / "bin" / "schemathesis"
    if binary.exists():
        probe = run_quietly([str(binary), "--version"], timeout=120)
        if probe.returncode == 0 and SCHEMATHESIS_VERSION in probe.stdout:
            return binary
    steps = [[sys.executable, "-m", "venv", "--clear", str(VENV)],
             [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
              f"schemathesis=={SCHEMATHESIS_VERSION}"]]
    for step in steps:
        done = run_quietly(step, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"installing Schemathesis {SCHEMATHESIS_VERSION} into {VENV} failed at "
                        f"'{' '.join(step)}' (exit {done.returncode}); check access to PyPI:\n"
                        + (done.stdout + done.stderr)[-2000:])
    return binary


def count_requests(gateway_log, tenant, method, path, status):
    """Counts a tenant's requests to a path that got this status, from the gateway's JSON log."""
    count = 0
    for line in gateway_log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if (entry.get("msg") == "request" and entry.get("tenant") == tenant
                and entry.get("method") == method
                and entry.get("target", "").partition("?")[0] == path
                and str(entry.get("status")) == str(status)):
            count += 1
    return count


def test_gateway_meets_openapi_contract(stack):
    binary = schemathesis_binary()
    client = stack.new_client()
    command = [
        str(binary), "run", f"{stack.url}/openapi.yaml",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-database", "none",
        "--header", f"Authorization: Bearer {client.api_key}",
        "--request-timeout", "30",
        # One worker: with two threads, CPython 3.11's ast module shares its recursion counter
        # between them, and Hypothesis parsing lambda sources at once in both fails at random
        # with "AST constructor recursion depth mismatch".
        "--workers", "1",
        "--continue-on-failure",
        "--no-color",
    ]
    environment = dict(os.environ, SCHEMATHESIS_HOOKS=str(HOOKS))
    with tempfile.TemporaryDirectory(prefix="jobgate-schemathesis-") as workdir:
        try:
            run = subprocess.run(command, capture_output=True, text=True, env=environment,
                                 cwd=workdir, timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as expired:
            # The output collected before the timeout arrives as bytes, even with text=True.
            output = [part.decode(errors="replace") if isinstance(part, bytes) else part or ""
                      for part in (expired.stdout, expired.stderr)]
            pytest.fail(f"Schemathesis did not finish within {RUN_TIMEOUT_SECONDS} s:\n"
                        + "\n".join(output))
    print(run.stdout)
    print(run.stderr, file=sys.stderr)
    assert run.returncode == 0, \
        f"Schemathesis reported failures (exit {run.returncode}); see its report in the output."

    # The run must have reached the business logic, not only error paths.
    links = re.search(r"API Links:\s+(\d+) covered", run.stdout)
    assert links and int(links.group(1)) > 0, "the stateful phase followed no OpenAPI link"
    log = stack.log("gateway.log")
    assert count_requests(log, stack.tenant, "POST", "/v1/imports", 202) > 0, \
        "no generated multipart import was accepted"
    assert count_requests(log, stack.tenant, "POST", "/v1/exports", 202) > 0, \
        "no generated export was accepted"


def test_list_cursor_digit_bound(fresh):
    # The document's cursor pattern allows 1 to 18 digits before the job id, so the gateway rejects
    # longer numbers, even those that fit in 64 bits.
    job_id = "imp_" + "0" * 32
    for digits, status in [("1", 200), ("9" * 18, 200), ("1" * 19, 400), ("0" * 22 + "1", 400)]:
        response = fresh.client.get(f"/v1/jobs?after={digits}_{job_id}")
        assert response.status == status, (digits, response.body)
