"""Tenants and API keys made with jobgate-admin in the stack's Redis. A stored key submits jobs,
and a tenant's own submit limit applies to it alone and shows in the metrics. A revoked key is
rejected once the gateway's 5-second cache entry expired, and --json output parses."""
import json
import math
import os
import secrets
import subprocess
import time

from conftest import BUILD
from jobgate_client import Client

EXPORT_REQUEST = {"name": "tenant keys", "objectType": "contacts", "properties": ["email"],
                  "format": "csv"}
# The gateway caches a found key for 5 s; the margin covers a slow machine.
KEY_CACHE_WAIT_S = 6.5


def admin(*arguments, expect=0):
    """Runs jobgate-admin against the stack's Redis and returns the completed process."""
    env = dict(os.environ, JOBGATE_REDIS_URL=os.environ["JOBGATE_TEST_REDIS_URL"])
    done = subprocess.run([str(BUILD / "bin" / "jobgate-admin"), *arguments], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == expect, done.stdout + done.stderr
    return done


def new_tenant(*limit_options):
    name = "e2e-" + secrets.token_hex(6)
    admin("tenant", "create", name, "--description", "end-to-end test", *limit_options)
    return name


def new_key(tenant):
    created = json.loads(admin("key", "create", tenant, "--label", "e2e", "--json").stdout)
    return created["key"], created["id"]


def test_stored_key_submits(stack):
    tenant = new_tenant()
    key, _ = new_key(tenant)
    client = Client(stack.url, key)
    response = client.post_json("/v1/exports", EXPORT_REQUEST)
    assert response.status == 202, response.body
    job = client.get(response.header("Location"))
    assert job.status == 200, job.body

    # Another tenant's key cannot read the job.
    other_key, _ = new_key(new_tenant())
    assert Client(stack.url, other_key).get(response.header("Location")).status == 404


def test_tenant_submit_limit(stack):
    limited = new_tenant("--submit-rate-limit", "1", "--submit-burst", "3")
    limited_client = Client(stack.url, new_key(limited)[0])
    # The stack turns the deployment's rate limits off, so the other tenant has none.
    free_client = Client(stack.url, new_key(new_tenant())[0])

    started = time.monotonic()
    statuses = []
    while 429 not in statuses and len(statuses) < 10:
        statuses.append(limited_client.post_json("/v1/exports", EXPORT_REQUEST).status)
    elapsed = time.monotonic() - started
    assert statuses[-1] == 429, statuses
    accepted = statuses.count(202)
    assert accepted == len(statuses) - 1, statuses
    # The burst of 3 refills at one submission per second, so a slow run may see one more 202.
    if elapsed < 1:
        assert accepted == 3
    assert 3 <= accepted <= 3 + math.ceil(elapsed)
    for _ in range(6):
        assert free_client.post_json("/v1/exports", EXPORT_REQUEST).status == 202

    metrics = stack.client.request("GET", "/metrics", authenticate=False).body.decode()
    assert f'jobgate_rate_limited_requests_total{{tenant="{limited}",limit="submit"}} 1' in metrics


def test_revoked_key_rejected_after_ttl(stack):
    tenant = new_tenant()
    key, key_id = new_key(tenant)
    client = Client(stack.url, key)
    assert client.get("/v1/jobs").status == 200

    admin("key", "revoke", tenant, key_id)
    time.sleep(KEY_CACHE_WAIT_S)
    response = client.get("/v1/jobs")
    assert response.status == 401, response.body
    assert response.header("WWW-Authenticate") == "Bearer"


def test_admin_json_output():
    tenant = new_tenant("--exports-per-day", "5")
    shown = json.loads(admin("tenant", "show", tenant, "--json").stdout)
    assert shown["name"] == tenant
    assert shown["description"] == "end-to-end test"
    assert shown["limits"] == {"exports-per-day": 5}
    assert shown["defaults"]["submit-burst"] == 100

    updated = json.loads(admin("tenant", "set", tenant, "--exports-per-day", "default",
                               "--read-burst", "9", "--json").stdout)
    assert updated["limits"] == {"read-burst": 9}

    listed = json.loads(admin("tenant", "list", "--json").stdout)
    assert tenant in [entry["name"] for entry in listed["tenants"]]

    created = admin("key", "create", tenant, "--json")
    key = json.loads(created.stdout)
    assert key["key"].startswith("jg_")
    assert len(key["key"]) == 46
    assert "cannot be shown again" in created.stderr
    keys = json.loads(admin("key", "list", tenant, "--json").stdout)["keys"]
    assert [entry["id"] for entry in keys] == [key["id"]]
    assert "key" not in keys[0]

    revoked = json.loads(admin("key", "revoke", tenant, key["id"], "--json").stdout)
    assert revoked == {"id": key["id"], "tenant": tenant, "revoked": True}


def test_admin_errors():
    missing = admin("key", "create", "e2e-missing-" + secrets.token_hex(4), expect=1)
    assert "not found" in missing.stderr
    usage = admin("tenant", "set", "x", "--submit-burst", "zero", expect=2)
    assert "--submit-burst" in usage.stderr
    text = admin("key", "create", new_tenant())
    assert "cannot be shown again" in text.stdout
