"""The CSV error report of an import, read through the real gateway, worker, Redis and Kafka, then
corrected and imported again."""
import csv
import io

BOM = "\ufeff"
REPORT_COLUMNS = ["jobgate_row", "jobgate_column", "jobgate_error", "jobgate_detail"]

# Rows 3 to 7 are rejected: a bad email, a short row, an empty email, a long row, and a bad email
# in a record with quotes and a quoted line break.
CONTACTS = (
    b"Email,First Name,Last Name,Notes\r\n"
    b"ann@example.com,Ann,Lee,first\r\n"
    b'bob.example.com,Bob,Ray,"has, comma"\r\n'
    b"carl@example.com,Carl\r\n"
    b",Dora,Ng,x\r\n"
    b"eve@example.com,Eve,Fox,ok,extra\r\n"
    b'fay@example,"Fay ""F""",Ode,"two\nlines"\r\n'
    b"gus@example.com,Gus,Ray,last\r\n"
)

EXPECTED_REPORT = (
    BOM
    + "Email,First Name,Last Name,Notes,jobgate_row,jobgate_column,jobgate_error,jobgate_detail\r\n"
    'bob.example.com,Bob,Ray,"has, comma",3,Email,invalid_email,an email address needs an @\r\n'
    'carl@example.com,Carl,,,4,,column_count_mismatch,"expected 4 fields, got 2"\r\n'
    ',Dora,Ng,x,5,Email,missing_required,"email is required, but the cell is empty"\r\n'
    'eve@example.com,Eve,Fox,ok,6,,column_count_mismatch,"expected 4 fields, got 5",extra\r\n'
    'fay@example,"Fay ""F""",Ode,"two\nlines",7,Email,invalid_email,'
    "the domain after the @ has no dot\r\n"
)


def import_and_wait(client, data, request):
    submitted = client.submit_import(data, request)
    assert submitted.status == 202, submitted.body
    job = client.wait(submitted.header("Location"))
    assert job["status"] == "DONE", job
    return job


def csv_report(client, job_id, **options):
    response = client.get(f"/v1/imports/{job_id}/errors?format=csv", **options)
    assert response.status == 200, response.body
    return response


def parse_report(body):
    text = body.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM):], newline="")))


def write_report(rows, delimiter=","):
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def export_contacts(client):
    submitted = client.post_json("/v1/exports", {"objectType": "contacts",
                                                 "properties": ["email", "firstname", "lastname"]})
    assert submitted.status == 202, submitted.body
    job = client.wait(submitted.header("Location"))
    assert job["status"] == "DONE", job
    download = client.get(client.get(job["links"]["result"]).json()["url"], authenticate=False)
    assert download.status == 200, download.body
    rows = csv.DictReader(io.StringIO(download.body.decode("utf-8"), newline=""))
    return {row["email"]: row for row in rows}


def test_report_exact_content(fresh):
    client = fresh.client
    job = import_and_wait(client, CONTACTS, {"objectType": "contacts"})
    assert job["counts"]["failed"] == 5

    response = client.get(f"/v1/imports/{job['id']}/errors", headers={"Accept": "text/csv"})
    assert response.status == 200, response.body
    assert response.header("Content-Type") == "text/csv; charset=utf-8"
    assert response.header("Content-Disposition") == \
        f'attachment; filename="{job["id"]}-errors.csv"'
    assert response.header("Transfer-Encoding") == "chunked"
    assert response.header("Vary") == "Accept"
    assert response.header("Retry-After") is None
    assert response.body.decode("utf-8") == EXPECTED_REPORT


def test_report_format_parameter_wins(fresh):
    client = fresh.client
    job = import_and_wait(client, CONTACTS, {"objectType": "contacts"})
    path = f"/v1/imports/{job['id']}/errors"

    as_csv = csv_report(client, job["id"], headers={"Accept": "application/json"})
    assert as_csv.body.decode("utf-8") == EXPECTED_REPORT

    as_json = client.get(path + "?format=json&limit=2", headers={"Accept": "text/csv"})
    assert as_json.status == 200
    assert as_json.header("Content-Type") == "application/json"
    page = as_json.json()
    assert page["total"] == 5
    assert [entry["row"] for entry in page["results"]] == [3, 4]
    assert page["results"][0]["cells"] == ["bob.example.com", "Bob", "Ray", "has, comma"]
    assert page["results"][1]["cells"] == ["carl@example.com", "Carl"]
    assert "cellsCut" not in page["results"][0]

    # Without Accept or format the page stays JSON, and a preferred text/csv selects the report.
    assert client.get(path).header("Content-Type") == "application/json"
    preferred = client.get(path, headers={"Accept": "application/json;q=0.5, text/csv"})
    assert preferred.header("Content-Type") == "text/csv; charset=utf-8"

    invalid = client.get(path + "?format=xlsx")
    assert invalid.status == 400
    problem = invalid.json()
    assert problem["field"] == "format"
    assert problem["value"] == "xlsx"


def test_report_head_sends_headers_only(fresh):
    client = fresh.client
    job = import_and_wait(client, CONTACTS, {"objectType": "contacts"})
    response = client.request("HEAD", f"/v1/imports/{job['id']}/errors?format=csv")
    assert response.status == 200
    assert response.header("Content-Type") == "text/csv; charset=utf-8"
    assert response.body == b""


def test_corrected_report_imports(fresh):
    client = fresh.client
    request = {"objectType": "contacts"}
    job = import_and_wait(client, CONTACTS, request)
    rows = parse_report(csv_report(client, job["id"]).body)
    header, data = rows[0], rows[1:]
    assert header[4:] == REPORT_COLUMNS
    assert [row[4] for row in data] == ["3", "4", "5", "6", "7"]

    # Correct every row as a user would in a spreadsheet, leaving the report columns in place.
    fixes = {"3": {0: "bob@example.com"}, "4": {2: "Cole"}, "5": {0: "dora@example.com"},
             "7": {0: "fay@example.com"}}
    for row in data:
        for column, value in fixes.get(row[4], {}).items():
            row[column] = value
        del row[8:]
    corrected = import_and_wait(client, write_report([header] + data), request)
    assert corrected["counts"]["created"] == 5
    assert corrected["counts"]["failed"] == 0
    assert corrected["unmappedColumns"] == ["Notes"] + REPORT_COLUMNS

    # A report with no rejected rows is the header alone.
    empty = csv_report(client, corrected["id"]).body.decode("utf-8")
    assert empty == EXPECTED_REPORT.split("\r\n")[0] + "\r\n"

    stored = export_contacts(client)
    assert sorted(stored) == ["ann@example.com", "bob@example.com", "carl@example.com",
                              "dora@example.com", "eve@example.com", "fay@example.com",
                              "gus@example.com"]
    assert stored["fay@example.com"]["firstname"] == 'Fay "F"'
    assert stored["carl@example.com"]["lastname"] == "Cole"
    assert stored["eve@example.com"]["lastname"] == "Fox"


def test_unchanged_report_does_not_nest(fresh):
    client = fresh.client
    request = {"objectType": "contacts"}
    job = import_and_wait(client, CONTACTS, request)
    first = csv_report(client, job["id"]).body

    # Imported again unchanged, the padded short row passes and the others fail again.
    again = import_and_wait(client, first, request)
    assert again["counts"]["created"] == 1
    assert again["counts"]["failed"] == 4
    rows = parse_report(csv_report(client, again["id"]).body)
    assert rows[0] == ["Email", "First Name", "Last Name", "Notes"] + REPORT_COLUMNS
    assert rows[1] == ["bob.example.com", "Bob", "Ray", "has, comma", "2", "Email",
                       "invalid_email", "an email address needs an @"]
    assert rows[3] == ["eve@example.com", "Eve", "Fox", "ok", "5", "", "column_count_mismatch",
                       "expected 8 fields, got 9", "extra"]
    assert len(rows) == 5


def test_report_keeps_delimiter_and_mapping(fresh):
    client = fresh.client
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "Mail", "propertyName": "email"},
                                  {"columnName": "Vorname", "propertyName": "firstname"}],
               "options": {"delimiter": ";", "encoding": "windows-1252"}}
    data = "Mail;Vorname\r\nzoe.example.com;Zoë\r\nok@example.com;Otto\r\n".encode("cp1252")
    job = import_and_wait(client, data, request)
    assert job["counts"]["failed"] == 1

    report = csv_report(client, job["id"]).body
    assert report.decode("utf-8") == (
        BOM + "Mail;Vorname;jobgate_row;jobgate_column;jobgate_error;jobgate_detail\r\n"
        "zoe.example.com;Zoë;2;Mail;invalid_email;an email address needs an @\r\n")

    # The byte-order mark makes the UTF-8 report import under the same windows-1252 request.
    fixed = report.replace(b"zoe.example.com", b"zoe@example.com")
    corrected = import_and_wait(client, fixed, request)
    assert corrected["counts"]["created"] == 1
    assert corrected["counts"]["failed"] == 0
    assert export_contacts(client)["zoe@example.com"]["firstname"] == "Zoë"


def test_report_streams_many_pages(fresh):
    client = fresh.client
    count = 1234
    lines = ["Email,First Name"] + [f"bad{i}.example.com,Name {i}" for i in range(count)]
    job = import_and_wait(client, ("\r\n".join(lines) + "\r\n").encode(), {"objectType": "contacts"})
    assert job["counts"]["failed"] == count

    rows = parse_report(csv_report(client, job["id"]).body)
    assert rows[0] == ["Email", "First Name"] + REPORT_COLUMNS
    assert len(rows) == count + 1
    for i, row in enumerate(rows[1:]):
        assert row == [f"bad{i}.example.com", f"Name {i}", str(i + 2), "Email", "invalid_email",
                       "an email address needs an @"]


def test_report_of_failed_import(fresh):
    client = fresh.client
    submitted = client.submit_import(b"", {"objectType": "contacts"})
    assert submitted.status == 202, submitted.body
    job = client.wait(submitted.header("Location"))
    assert job["status"] == "FAILED"
    report = csv_report(client, job["id"]).body.decode("utf-8")
    assert report == BOM + ",".join(REPORT_COLUMNS) + "\r\n"
