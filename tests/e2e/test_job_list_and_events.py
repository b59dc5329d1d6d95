"""Job lists with cursor paging and filters, long polls, and Server-Sent Events."""
import http.client
import json
import threading
import time
import urllib.parse

from test_import_export import generate


def export_request(name):
    return {"name": name, "objectType": "contacts", "properties": ["email"]}


def submit_exports(client, count):
    ids = []
    for index in range(count):
        response = client.post_json("/v1/exports", export_request(f"list-{index}"))
        assert response.status == 202, response.body
        ids.append(response.json()["id"])
    return ids


def all_pages(client, path):
    seen = []
    pages = 0
    while path:
        response = client.get(path)
        assert response.status == 200, response.body
        page = response.json()
        seen.extend(job["id"] for job in page["results"])
        pages += 1
        path = page.get("paging", {}).get("next", {}).get("link")
        if path:
            assert response.header("Link") == f'<{path}>; rel="next"'
    return seen, pages


def test_list_pages_newest_first(fresh):
    client = fresh.client
    ids = submit_exports(client, 7)
    seen, pages = all_pages(client, "/v1/exports?limit=3")
    assert seen == list(reversed(ids))
    assert pages == 3
    jobs_seen, _ = all_pages(client, "/v1/jobs?limit=5")
    assert jobs_seen == list(reversed(ids))
    imports_seen, _ = all_pages(client, "/v1/imports")
    assert imports_seen == []


def test_list_stable_under_concurrent_inserts(fresh):
    client = fresh.client
    ids = submit_exports(client, 6)
    first = client.get("/v1/exports?limit=2").json()
    # Jobs created after the first page never shift the pages that follow it.
    submit_exports(client, 3)
    rest, _ = all_pages(client, first["paging"]["next"]["link"])
    assert [job["id"] for job in first["results"]] + rest == list(reversed(ids))


def test_list_filters_by_status_and_time(fresh):
    client = fresh.client
    ids = submit_exports(client, 3)
    for job_id in ids:
        client.wait(f"/v1/exports/{job_id}")
    middle = client.get(f"/v1/exports/{ids[1]}").json()["createdAt"]
    after, _ = all_pages(client, "/v1/exports?createdAfter=" + urllib.parse.quote(middle))
    assert after == [ids[2], ids[1]]
    before, _ = all_pages(client, "/v1/exports?createdBefore=" + urllib.parse.quote(middle))
    assert before == [ids[0]]
    done, _ = all_pages(client, "/v1/exports?status=DONE")
    assert done == list(reversed(ids))
    pending, _ = all_pages(client, "/v1/exports?status=PENDING,PROCESSING")
    assert pending == []


def test_list_rejects_bad_parameters(fresh):
    client = fresh.client
    for query, field in [("limit=0", "limit"), ("limit=101", "limit"), ("status=RUNNING", "status"),
                         ("after=nonsense", "after"), ("createdAfter=yesterday", "createdAfter")]:
        response = client.get("/v1/exports?" + query)
        assert response.status == 400, query
        problem = response.json()
        assert problem["type"].endswith("/invalid-request")
        assert problem["field"] == field


def test_list_is_scoped_to_the_tenant(fresh):
    owner = fresh.client
    submit_exports(owner, 2)
    other = fresh.new_client()
    seen, _ = all_pages(other, "/v1/jobs")
    assert seen == []


def test_long_poll_returns_on_change(fresh, tmp_path):
    client = fresh.client
    data, _ = generate(tmp_path, 20000, 5)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    job = response.json()
    started = time.monotonic()
    polled = client.get(f"/v1/jobs/{job['id']}?wait=30")
    assert polled.status == 200
    # The first change (PENDING to PROCESSING, or progress) ends the wait long before 30 s.
    assert time.monotonic() - started < 20
    assert polled.json()["updatedAt"] != job["updatedAt"] or polled.json()["status"] != "PENDING"
    final = client.wait(f"/v1/imports/{job['id']}")
    assert final["status"] == "DONE"
    started = time.monotonic()
    assert client.get(f"/v1/jobs/{job['id']}?wait=30").status == 200
    assert time.monotonic() - started < 5


def read_events(client, path, timeout=120):
    parsed = urllib.parse.urlsplit(path)
    connection = http.client.HTTPConnection(client.host, client.port, timeout=timeout)
    connection.request("GET", parsed.path, headers={"Authorization": f"Bearer {client.api_key}",
                                                    "Accept": "text/event-stream"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    events = []
    current = {}
    for raw in response:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if "event" in current:
                events.append((current["event"], json.loads(current["data"])))
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = value
    connection.close()
    return events


def test_event_stream_follows_an_import(fresh, tmp_path):
    client = fresh.client
    data, _ = generate(tmp_path, 30000, 6)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    job_id = response.json()["id"]
    events = read_events(client, f"/v1/imports/{job_id}/events")
    names = [name for name, _ in events]
    assert names[-1] == "end"
    assert events[-1][1]["status"] == "DONE"
    assert events[-1][1]["counts"]["rowsRead"] > 0
    assert "progress" in names or "status" in names
    processed = [payload["progress"]["rowsProcessed"] for _, payload in events]
    assert processed == sorted(processed)
    # A finished job's stream sends the final state at once and closes.
    again = read_events(client, f"/v1/jobs/{job_id}/events", timeout=10)
    assert [name for name, _ in again] == ["end"]


def test_event_stream_reports_cancel(fresh, tmp_path):
    client = fresh.client
    data, _ = generate(tmp_path, 60000, 7)
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    job_id = response.json()["id"]
    collected = {}

    def follow():
        collected["events"] = read_events(client, f"/v1/imports/{job_id}/events")

    reader = threading.Thread(target=follow)
    reader.start()
    time.sleep(0.5)
    client.request("POST", f"/v1/imports/{job_id}/cancel")
    reader.join(timeout=60)
    assert not reader.is_alive()
    name, payload = collected["events"][-1]
    assert name == "end"
    assert payload["status"] in ("CANCELED", "DONE")


def test_event_stream_of_unknown_job_is_404(fresh):
    response = fresh.client.get("/v1/jobs/exp_00000000000000000000000000000000/events")
    assert response.status == 404


def test_record_lookup_by_id_and_unique_key(fresh):
    client = fresh.client
    data = b"email,firstname,createdate\nAda@Example.com,Ada,2024-03-01\n"
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    assert client.wait(response.header("Location"))["status"] == "DONE"
    by_email = client.get("/v1/objects/contacts/ADA%40example.com?idProperty=email")
    assert by_email.status == 200, by_email.body
    record = by_email.json()
    assert record["objectType"] == "contacts"
    assert record["properties"]["email"] == "ada@example.com"
    assert record["properties"]["firstname"] == "Ada"
    assert record["properties"]["createdate"] == "2024-03-01"
    by_id = client.get(f"/v1/objects/contacts/{record['id']}")
    assert by_id.status == 200
    assert by_id.json() == record
    missing = client.get("/v1/objects/contacts/nobody%40example.com?idProperty=email")
    assert missing.status == 404
    assert missing.json()["type"].endswith("/record-not-found")
    wrong_property = client.get("/v1/objects/contacts/Ada?idProperty=firstname")
    assert wrong_property.status == 400
    assert client.get("/v1/objects/deals/1").status == 404
    # Another tenant gets 404 for the same id.
    other = fresh.new_client()
    assert other.get(f"/v1/objects/contacts/{record['id']}").status == 404


def test_job_shows_expiry_once_finished(fresh):
    client = fresh.client
    response = client.post_json("/v1/exports", export_request("expiry"))
    assert response.json()["expiresAt"] is None
    job = client.wait(response.header("Location"))
    assert job["expiresAt"] > job["completedAt"]
