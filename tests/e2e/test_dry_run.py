"""?dryRun=true on imports: the mapping and row checks at once, and no job."""
from jobgate_client import multipart_body
import json


def dry_run(client, csv_bytes, import_request, query="?dryRun=true"):
    body, content_type = multipart_body([
        ("importRequest", None, "application/json", json.dumps(import_request).encode()),
        ("files", "contacts.csv", "text/csv", csv_bytes),
    ])
    return client.request("POST", "/v1/imports" + query, body=body,
                          headers={"Content-Type": content_type})


def test_dry_run_reports_mapping_and_row_errors(fresh):
    client = fresh.client
    data = (b"E-mail,First,Notes\n"
            b"ada@example.com,Ada,x\n"
            b"not-an-email,Bob,y\n"
            b",,\n"
            b"cy@example.com,Cy,z\n")
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "E-mail", "propertyName": "email"},
                                  {"columnName": "First", "propertyName": "firstname"}]}
    response = dry_run(client, data, request)
    assert response.status == 200, response.body
    report = response.json()
    assert report["dryRun"] is True
    assert report["valid"] is False
    assert [c.get("propertyName") for c in report["columns"]] == ["email", "firstname", None]
    assert report["unmappedColumns"] == ["Notes"]
    assert report["rowsChecked"] == 4
    assert report["validRows"] == 2
    assert report["blankRows"] == 1
    assert [(e["row"], e["kind"], e["value"]) for e in report["errors"]] == [
        (3, "invalid_email", "not-an-email")]
    # Nothing was created.
    assert client.get("/v1/imports").json()["results"] == []


def test_dry_run_reports_a_mapping_failure(fresh):
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "Mail", "propertyName": "email"}]}
    response = dry_run(fresh.client, b"email,firstname\na@example.com,A\n", request)
    assert response.status == 200, response.body
    report = response.json()
    assert report["valid"] is False
    assert report["failure"]["type"].endswith("/missing-column")
    assert report["failure"]["subject"] == "Mail"


def test_dry_run_of_a_clean_file_is_valid(fresh):
    rows = b"".join(b"p%d@example.com,P%d\n" % (i, i) for i in range(500))
    response = dry_run(fresh.client, b"email,firstname\n" + rows, {"objectType": "contacts"})
    report = response.json()
    assert report["valid"] is True
    assert report["rowsChecked"] == 100
    assert report["errors"] == []


def test_dry_run_value_is_checked(fresh):
    response = dry_run(fresh.client, b"email\n", {"objectType": "contacts"}, "?dryRun=yes")
    assert response.status == 400
    assert response.json()["field"] == "dryRun"
