"""Export filters and CSV formula escaping through the real gateway, worker, Redis and Kafka.

Each group of tests imports a CSV of chosen values into a tenant of its own, then exports with
filters and checks exactly which records come back, in creation order."""
import csv
import io
import json

import pytest

CONTACT_COLUMNS = ["email", "firstname", "lastname", "phone", "company", "city", "country",
                   "createdate"]
CONTACTS = [
    ["ana@example.com", "Ana", "Silva", "+49 30 1234567", "Initech", "Berlin", "Germany",
     "2024-01-15"],
    ["ben@example.com", "Ben", "Weber", "", "Acme", "Hamburg", "Germany", "2024-02-01"],
    ["cara@example.com", "Cara", "Quispe", "", "Globex", "Lima", "Peru", "2024-02-29"],
    ["dev@example.com", "Dev", "Rao", "", "Hooli", "BURGDORF", "India", "2023-12-31"],
    ["eve@example.com", "Eve", "", "", "", "", "Chile", ""],
    ["fay@example.com", "Fay", "Okafor", "", "Umbrella", "Quito", "Ecuador", "2024-03-01"],
]
# Number values as written in the file. The import stores "1e2" as written and "50.0" as "50".
COMPANIES = [
    ["alpha.example", "Alpha", "9"],
    ["beta.example", "Beta", "10"],
    ["gamma.example", "Gamma", "50"],
    ["delta.example", "Delta", "1000"],
    ["epsilon.example", "Epsilon", "1e2"],
    ["zeta.example", "Zeta", ""],
    ["eta.example", "Eta", "-3.5"],
    ["theta.example", "Theta", "50.0"],
]
FORMULA_CELLS = {"firstname": "=1+2", "phone": "+4915112345678", "lastname": "-5", "company": "@x"}


def csv_bytes(header, rows):
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def import_rows(client, object_type, header, rows):
    submitted = client.submit_import(csv_bytes(header, rows), {"objectType": object_type})
    assert submitted.status == 202, submitted.body
    job = client.wait(submitted.header("Location"))
    assert job["status"] == "DONE", job
    assert job["counts"]["created"] == len(rows), job


def download_export(client, request):
    """Runs an export to DONE and returns the downloaded file's bytes."""
    response = client.post_json("/v1/exports", request)
    assert response.status == 202, response.body
    job = client.wait(response.header("Location"))
    assert job["status"] == "DONE", job
    result = client.get(job["links"]["result"])
    assert result.status == 200, result.body
    download = client.get(result.json()["url"], authenticate=False)
    assert download.status == 200, download.body
    return download.body


def exported_column(client, object_type, column, filters):
    """Returns the values of `column` of every exported record, from a CSV export."""
    body = download_export(client, {"objectType": object_type, "properties": [column],
                                    "filters": filters})
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[0] == [column]
    return [row[0] for row in rows[1:]]


# The filter cases only read, so each group shares one tenant, because a stack has 40 tenants.
@pytest.fixture(scope="module")
def contacts(stack):
    client = stack.new_client()
    import_rows(client, "contacts", CONTACT_COLUMNS, CONTACTS)
    return client


@pytest.fixture(scope="module")
def companies(stack):
    client = stack.new_client()
    import_rows(client, "companies", ["domain", "name", "numberofemployees"], COMPANIES)
    return client


@pytest.fixture(scope="module")
def rejecting(stack):
    """A client of an empty tenant for requests that the gateway rejects."""
    return stack.new_client()


CONTACT_CASES = [
    ("EQ", [{"propertyName": "city", "operator": "EQ", "value": "berlin"}], ["ana"]),
    ("NEQ", [{"propertyName": "country", "operator": "NEQ", "value": "GERMANY"}],
     ["cara", "dev", "eve", "fay"]),
    ("NEQ keeps unset", [{"propertyName": "city", "operator": "NEQ", "value": "Lima"}],
     ["ana", "ben", "dev", "eve", "fay"]),
    ("CONTAINS", [{"propertyName": "city", "operator": "CONTAINS", "value": "burg"}],
     ["ben", "dev"]),
    ("CONTAINS middle", [{"propertyName": "company", "operator": "CONTAINS", "value": "OBE"}],
     ["cara"]),
    ("IN", [{"propertyName": "country", "operator": "IN",
             "values": ["peru", "Ecuador", "Atlantis"]}], ["cara", "fay"]),
    ("IN whole values", [{"propertyName": "city", "operator": "IN", "values": ["Lim", "Quit"]}],
     []),
    ("GT", [{"propertyName": "createdate", "operator": "GT", "value": "2024-02-01"}],
     ["cara", "fay"]),
    ("GTE", [{"propertyName": "createdate", "operator": "GTE", "value": "2024-02-01"}],
     ["ben", "cara", "fay"]),
    ("LT", [{"propertyName": "createdate", "operator": "LT", "value": "2024-01-15"}], ["dev"]),
    ("LTE", [{"propertyName": "createdate", "operator": "LTE", "value": "2024-01-15"}],
     ["ana", "dev"]),
    ("BETWEEN", [{"propertyName": "createdate", "operator": "BETWEEN", "value": "2024-01-15",
                  "highValue": "2024-02-29"}], ["ana", "ben", "cara"]),
    ("HAS_PROPERTY", [{"propertyName": "createdate", "operator": "HAS_PROPERTY"}],
     ["ana", "ben", "cara", "dev", "fay"]),
    ("NOT_HAS_PROPERTY", [{"propertyName": "city", "operator": "NOT_HAS_PROPERTY"}], ["eve"]),
    ("AND", [{"propertyName": "country", "operator": "EQ", "value": "Germany"},
             {"propertyName": "createdate", "operator": "GT", "value": "2024-01-31"}], ["ben"]),
    ("AND empty", [{"propertyName": "city", "operator": "CONTAINS", "value": "burg"},
                   {"propertyName": "country", "operator": "IN", "values": ["Peru"]}], []),
]


@pytest.mark.parametrize("filters, names", [case[1:] for case in CONTACT_CASES],
                         ids=[case[0] for case in CONTACT_CASES])
def test_contact_filter(contacts, filters, names):
    emails = exported_column(contacts, "contacts", "email", filters)
    assert emails == [name + "@example.com" for name in names]


COMPANY_CASES = [
    ("GT", [{"propertyName": "numberofemployees", "operator": "GT", "value": "9"}],
     ["beta", "gamma", "delta", "epsilon", "theta"]),
    ("LT", [{"propertyName": "numberofemployees", "operator": "LT", "value": "10"}],
     ["alpha", "eta"]),
    ("GTE exponent", [{"propertyName": "numberofemployees", "operator": "GTE", "value": "1e2"}],
     ["delta", "epsilon"]),
    ("LTE negative", [{"propertyName": "numberofemployees", "operator": "LTE", "value": "-3.5"}],
     ["eta"]),
    ("BETWEEN", [{"propertyName": "numberofemployees", "operator": "BETWEEN", "value": "10",
                  "highValue": "100"}], ["beta", "gamma", "epsilon", "theta"]),
    ("EQ", [{"propertyName": "numberofemployees", "operator": "EQ", "value": "50"}],
     ["gamma", "theta"]),
    ("EQ as decimal", [{"propertyName": "numberofemployees", "operator": "EQ",
                        "value": "100.00"}], ["epsilon"]),
    ("NEQ as decimal", [{"propertyName": "numberofemployees", "operator": "NEQ",
                         "value": "1E2"}],
     ["alpha", "beta", "gamma", "delta", "zeta", "eta", "theta"]),
    ("IN as decimals", [{"propertyName": "numberofemployees", "operator": "IN",
                         "values": ["9.0", "1e3", "7"]}], ["alpha", "delta"]),
    ("IN", [{"propertyName": "name", "operator": "IN", "values": ["ALPHA", "zeta"]}],
     ["alpha", "zeta"]),
]


@pytest.mark.parametrize("filters, names", [case[1:] for case in COMPANY_CASES],
                         ids=[case[0] for case in COMPANY_CASES])
def test_company_filter(companies, filters, names):
    domains = exported_column(companies, "companies", "domain", filters)
    assert domains == [name + ".example" for name in names]


BAD_FILTERS = [
    ("range on string", {"propertyName": "city", "operator": "GT", "value": "M"},
     "/filters/0/operator", "GT"),
    ("date not ISO", {"propertyName": "createdate", "operator": "LT", "value": "2024/01/31"},
     "/filters/0/value", "2024/01/31"),
    ("date not in calendar", {"propertyName": "createdate", "operator": "GTE",
                              "value": "2023-02-29"}, "/filters/0/value", "2023-02-29"),
    ("BETWEEN without highValue", {"propertyName": "createdate", "operator": "BETWEEN",
                                   "value": "2024-01-01"}, "/filters/0/highValue", None),
    ("BETWEEN reversed", {"propertyName": "createdate", "operator": "BETWEEN",
                          "value": "2024-03-01", "highValue": "2024-01-01"},
     "/filters/0/highValue", "2024-01-01"),
    ("IN with value", {"propertyName": "city", "operator": "IN", "value": "Lima"},
     "/filters/0/value", "Lima"),
    ("IN without values", {"propertyName": "city", "operator": "IN"}, "/filters/0/values", None),
    ("EQ with highValue", {"propertyName": "city", "operator": "EQ", "value": "a",
                           "highValue": "b"}, "/filters/0/highValue", "b"),
    ("EQ without value", {"propertyName": "city", "operator": "EQ"}, "/filters/0/value", None),
    ("CONTAINS empty", {"propertyName": "city", "operator": "CONTAINS", "value": ""},
     "/filters/0/value", ""),
    ("HAS_PROPERTY with values", {"propertyName": "city", "operator": "HAS_PROPERTY",
                                  "values": ["x"]}, "/filters/0/values", None),
]


@pytest.mark.parametrize("bad_filter, field, value", [case[1:] for case in BAD_FILTERS],
                         ids=[case[0] for case in BAD_FILTERS])
def test_bad_filter_is_400(rejecting, bad_filter, field, value):
    response = rejecting.post_json("/v1/exports", {"objectType": "contacts",
                                                      "properties": ["email"],
                                                      "filters": [bad_filter]})
    assert response.status == 400, response.body
    assert response.header("Content-Type") == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-request"), problem
    assert problem["field"] == field, problem
    if value is None:
        assert "value" not in problem, problem
    else:
        assert problem["value"] == value, problem
    assert problem["detail"], problem


def test_bad_number_filter_is_400(rejecting):
    response = rejecting.post_json("/v1/exports", {
        "objectType": "companies", "properties": ["domain"],
        "filters": [{"propertyName": "name", "operator": "EQ", "value": "x"},
                    {"propertyName": "numberofemployees", "operator": "BETWEEN", "value": "1",
                     "highValue": "1,000"}]})
    assert response.status == 400, response.body
    problem = response.json()
    assert problem["type"].endswith("/invalid-request"), problem
    assert problem["field"] == "/filters/1/highValue"
    assert problem["value"] == "1,000"
    assert "not a number" in problem["detail"]


@pytest.mark.parametrize("request_part, field, keyword", [
    ({"filters": [{"propertyName": "city", "operator": "LIKE", "value": "x"}]},
     "/filters/0/operator", "enum"),
    ({"filters": [{"propertyName": "city", "operator": "IN", "values": []}]},
     "/filters/0/values", "minItems"),
    ({"filters": [{"propertyName": "city", "operator": "IN",
                   "values": [str(i) for i in range(101)]}]}, "/filters/0/values", "maxItems"),
    ({"csvFormulaEscape": "false"}, "/csvFormulaEscape", "type"),
], ids=["unknown operator", "IN empty", "IN over 100", "escape not boolean"])
def test_schema_violation_is_400(rejecting, request_part, field, keyword):
    response = rejecting.post_json("/v1/exports", {"objectType": "contacts",
                                                      "properties": ["email"], **request_part})
    assert response.status == 400, response.body
    problem = response.json()
    assert problem["type"].endswith("/invalid-request"), problem
    assert problem["field"] == field, problem
    assert problem["keyword"] == keyword, problem


def test_formula_cells_round_trip(fresh):
    client = fresh.client
    header = ["email", *FORMULA_CELLS]
    import_rows(client, "contacts", header, [["formula@example.com", *FORMULA_CELLS.values()],
                                             ["plain@example.com", "Ana", "030 1234", "Silva",
                                              "Acme"]])
    properties = header

    # Escaping is on by default: each formula cell gets one leading quote, other cells none.
    body = download_export(client, {"objectType": "contacts", "properties": properties})
    assert body.decode("utf-8").splitlines() == [
        "email,firstname,phone,lastname,company",
        "formula@example.com,'=1+2,'+4915112345678,'-5,'@x",
        "plain@example.com,Ana,030 1234,Silva,Acme",
    ]

    # Turned off, the cells are written as stored.
    body = download_export(client, {"objectType": "contacts", "properties": properties,
                                    "format": "csv", "csvFormulaEscape": False})
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[0] == {"email": "formula@example.com", **FORMULA_CELLS}
    assert rows[1]["firstname"] == "Ana"

    # NDJSON is never changed, whatever the option is.
    for escape in (True, False):
        body = download_export(client, {"objectType": "contacts", "properties": properties,
                                        "format": "ndjson", "csvFormulaEscape": escape})
        lines = [json.loads(line) for line in body.decode("utf-8").splitlines()]
        assert lines[0] == {"email": "formula@example.com", **FORMULA_CELLS}


def test_formula_escape_applies_to_filtered_rows(fresh):
    client = fresh.client
    import_rows(client, "contacts", ["email", "city"], [["a@example.com", "-Minus"],
                                                       ["b@example.com", "=Equals"],
                                                       ["c@example.com", "Plain"]])
    body = download_export(client, {"objectType": "contacts", "properties": ["city", "email"],
                                    "filters": [{"propertyName": "city", "operator": "IN",
                                                 "values": ["-minus", "=equals"]}]})
    assert body.decode("utf-8").splitlines() == [
        "city,email",
        "'-Minus,a@example.com",
        "'=Equals,b@example.com",
    ]
