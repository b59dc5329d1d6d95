"""The dashboard under /ui in a real browser: Debian's Chromium driven by playwright-core against
a gateway and workers on the real Redis and Kafka. Screenshots of every page are kept in the
test's tmp_path, and copied to JOBGATE_UI_SCREENSHOT_DIR when that is set."""
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

UI_TEST_DIR = pathlib.Path(__file__).resolve().parent / "ui"
CHROMIUM = os.environ.get("JOBGATE_CHROMIUM", "/usr/bin/chromium")
PAGES = ["key-rejected", "import-rejected-csv", "import-rejected-png", "import-check", "job-detail",
         "exports", "jobs", "job-failed", "overview", "overview-unreachable", "narrow-overview", "narrow-exports",
         "narrow-jobs"]
# Enough rows that the import still runs when its page opens, so the bar is seen moving.
ROW_COUNT = 100_000
# Invalid rows spread over the whole file, so the failed count keeps changing while the job runs.
INVALID_ROWS = {11, 101, 201} | set(range(2_000, ROW_COUNT, 2_000))
# The job page reads the failed rows at most once per this many seconds while the import runs.
ERRORS_REFRESH_SECONDS = 5
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def node_modules_dir():
    """Installs the pinned playwright-core once per package-lock.json into a cache directory and
    returns that directory, which also receives the flow script."""
    lock = (UI_TEST_DIR / "package-lock.json").read_bytes()
    cache_root = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    target = cache_root / "jobgate" / ("ui-browser-test-" + hashlib.sha256(lock).hexdigest()[:16])
    if not (target / "node_modules" / "playwright-core" / "package.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(UI_TEST_DIR / name, target / name)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target,
                       check=True, timeout=300)
    # ES modules resolve packages next to the script, so the script runs from the cache directory.
    shutil.copy(UI_TEST_DIR / "ui_flow.mjs", target / "ui_flow.mjs")
    return target


@pytest.fixture(scope="module")
def browser_runner():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}; install it with 'apt-get install -y chromium'")
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run playwright-core")
    return node_modules_dir()


def contacts_csv():
    lines = ["Email,First Name,Notes"]
    for index in range(ROW_COUNT):
        row = index + 2  # the header is row 1
        email = f"not-an-email-{index}" if row in INVALID_ROWS else f"ada{index}@example.com"
        lines.append(f"{email},Ada{index},note {index}")
    return ("\n".join(lines) + "\n").encode()


def test_dashboard_import_and_export(fresh, browser_runner, tmp_path):
    csv_path = tmp_path / "contacts.csv"
    csv_path.write_bytes(contacts_csv())
    output = tmp_path / "browser"
    output.mkdir()

    environment = dict(os.environ, JOBGATE_UI_URL=fresh.url, JOBGATE_API_KEY=fresh.api_key,
                       JOBGATE_UI_CSV=str(csv_path), JOBGATE_UI_OUTPUT=str(output),
                       JOBGATE_CHROMIUM=CHROMIUM)
    run = subprocess.run(["node", "ui_flow.mjs"], cwd=browser_runner, env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"screenshots in {output}")

    assert summary["pageErrors"] == []
    assert summary["finalUrl"] == fresh.url + "/ui/"
    assert summary["keyFormFocus"] == "api-key"
    assert "rejected the API key (HTTP 401)" in summary["rejectedKeyAlert"]
    assert "rejected the API key" in summary["rejectedKeyNotice"]
    assert "forgotten" not in summary["rejectedKeyNotice"]

    for name, rejected in summary["rejectedFiles"].items():
        assert "This file cannot be imported" in rejected["alert"], name
        assert "Cannot read properties" not in rejected["alert"], name
        assert rejected["startImportDisabled"], name
    assert "empty" in summary["rejectedFiles"]["empty.csv"]["alert"]
    assert "binary" in summary["rejectedFiles"]["image.png"]["alert"]
    assert summary["startImportEnabledAgain"]
    assert summary["suggestedMapping"] == {"Email": "email", "First Name": "firstname", "Notes": ""}
    assert len(summary["importKeys"]) == 1
    assert UUID_PATTERN.match(summary["importKeys"][0] or ""), summary["importKeys"]

    # The page followed the import to its end, and the job agrees.
    assert summary["progressSeen"] == "100"
    percents = [int(value) for value in summary["progressValues"] if value is not None]
    assert min(percents, default=100) < 100, summary["progressValues"]
    assert summary["failedHeading"] == f"Failed rows ({len(INVALID_ROWS)})"
    assert summary["errorTableRows"] == len(INVALID_ROWS)
    assert summary["failedTileLabel"] == "failed"
    assert not summary["noticeOverlapsMain"]
    # One read at the start, one per refresh interval while the job runs, one when it ends.
    max_reads = 2 + summary["importSeconds"] / ERRORS_REFRESH_SECONDS
    assert 1 <= summary["errorReads"] <= max_reads, summary
    job = fresh.client.get(f"/v1/imports/{summary['importId']}").json()
    assert job["status"] == "DONE"
    assert job["counts"]["failed"] == len(INVALID_ROWS)
    assert job["counts"]["created"] == ROW_COUNT - len(INVALID_ROWS)

    errors_csv = pathlib.Path(summary["errorsFile"]).read_text(encoding="utf-8-sig").splitlines()
    assert errors_csv[0].startswith("Email,First Name,Notes,jobgate_row")
    assert sorted(int(line.split(",")[3]) for line in errors_csv[1:]) == sorted(INVALID_ROWS)

    exported = pathlib.Path(summary["exportFile"]).read_text(encoding="utf-8").splitlines()
    assert exported[0].split(",")[0] == "email"
    assert len(exported) == 1 + ROW_COUNT - len(INVALID_ROWS)
    assert any(line.startswith("ada0@example.com,") for line in exported)

    assert "First Name (firstname)" in summary["exportPropertyLabels"]
    assert len(summary["exportKeys"]) == 2
    assert UUID_PATTERN.match(summary["exportKeys"][0] or ""), summary["exportKeys"]
    assert summary["exportKeys"][1] == summary["exportKeys"][0]

    empty_filter = summary["emptyFilterValue"]
    assert "The value is missing" in empty_filter["message"]
    assert empty_filter["invalid"] == "true"
    assert empty_filter["focused"] == "export-filter-value"
    assert empty_filter["posts"] == 0
    assert empty_filter["clearedOnChange"]

    # The failed import appeared in the open job list by its timed refresh.
    failed_job = fresh.client.get(f"/v1/imports/{summary['failedJobId']}").json()
    assert failed_job["status"] == "FAILED"
    assert "progress-failed" in summary["failedJobListBar"]["classes"]
    assert "progress-done" not in summary["failedJobListBar"]["classes"]
    assert summary["failedJobListBar"]["valueText"].startswith("failed")
    assert "progress-failed" in summary["failedJobOverviewBar"]
    assert "progress-failed" in summary["failedJobPage"]["classes"]
    assert summary["failedJobPage"]["progressText"].startswith("Failed · ")
    assert "%" not in summary["failedJobPage"]["progressText"]
    assert "Every row was accepted" not in summary["failedJobPage"]["failedRowsText"]
    assert "before the job failed" in summary["failedJobPage"]["failedRowsText"]

    assert summary["filteredRows"] == 1
    assert summary["applyUnchangedReread"]
    assert "imports" in summary["chartLabel"]
    assert summary["queueTableRows"] == 2
    # The stack's two workers serve both kinds with two slots each; workers of other tests may
    # still be reporting, so the counts are lower bounds.
    assert [row["kind"] for row in summary["workers"]] == ["imports", "exports"], summary["workers"]
    for row in summary["workers"]:
        assert int(row["workers"].replace(",", "")) >= 2, row
        busy, slots = (int(part.replace(",", "")) for part in row["busy"].split(" of "))
        assert slots >= 4, row
        assert 0 <= busy <= slots, row
        assert re.fullmatch(r"\d+%", row["utilisation"]), row
        assert row["bar"] == row["utilisation"], row
    without = summary["withoutExportWorkers"]
    assert "No worker serves exports, so new exports wait until one starts." in without["note"]
    assert without["rows"][1]["workers"] == "0"
    assert without["rows"][1]["busy"] == "0 of 0"
    assert without["rows"][1]["utilisation"] == "–"
    assert without["rows"][1]["bar"] is None
    assert summary["perMinuteTicks"], summary
    for tick in summary["perMinuteTicks"]:
        assert re.fullmatch(r"[0-9,]+", tick), summary["perMinuteTicks"]

    assert summary["outageOverview"]["tiles"] == 5
    assert summary["outageOverview"]["updated"].startswith("Last updated ")
    assert "Retrying" in summary["outageOverview"]["note"]
    assert "Failed to fetch" not in summary["outageJobs"]["main"]
    assert "The gateway is unreachable." in summary["outageJobs"]["main"]
    assert summary["outageJobs"]["recovered"]

    assert "No job with id <b>x</b>." in summary["unknownJob"]["text"]
    assert summary["unknownJob"]["boldElements"] == 0

    assert summary["narrowStatusBadges"] > 0
    assert summary["narrowStatusHidden"] == 0
    assert summary["narrowKindTables"] == [0, 0], summary["narrowKindTables"]
    for name, overflow in summary["narrowOverflow"].items():
        assert overflow == 0, f"the {name} page is {overflow} px wider than a 390 px screen"

    copy_to = os.environ.get("JOBGATE_UI_SCREENSHOT_DIR")
    for name in PAGES:
        screenshot = output / f"{name}.png"
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        if copy_to:
            shutil.copy(screenshot, pathlib.Path(copy_to) / screenshot.name)
