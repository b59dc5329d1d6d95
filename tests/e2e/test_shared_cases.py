"""Real-world import cases from the shared folder, each with its exact expected outcome.

Skipped when the folder is absent. Each case has a CSV and an .expected.json with the importRequest,
counts, failed rows and stored values."""
import json

import pytest

from conftest import SHARED
from test_import_export import export_records

CASES = SHARED / "cases"
CASE_FILES = sorted(CASES.glob("*.expected.json")) if CASES.is_dir() else []


def custom_properties(case):
    """Property names of a case's mappings that the built-in catalog lacks, such as 'notes'."""
    builtin = {"email", "firstname", "lastname", "phone", "company", "jobtitle", "website", "city",
               "country", "lifecyclestage", "createdate"}
    mappings = case["importRequest"].get("columnMappings", [])
    return sorted({m["propertyName"] for m in mappings} - builtin)


@pytest.mark.skipif(not CASE_FILES, reason=f"{CASES} is absent")
@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda path: path.name.split("-")[0])
def test_shared_case(fresh, case_file):
    case = json.loads(case_file.read_text())
    expected = case["expected"]
    data = (CASES / case["file"]).read_bytes()
    client = fresh.client
    # Properties the built-in catalog lacks are defined first, as free text, as a user would.
    object_type = case["importRequest"]["objectType"]
    for name in custom_properties(case):
        created = client.post_json(f"/v1/properties/{object_type}",
                                   {"name": name, "type": "string"})
        assert created.status == 201, created.body

    # "note" annotates a case for people; it is not part of the importRequest.
    request = {key: value for key, value in case["importRequest"].items() if key != "note"}
    submitted = client.submit_import(data, request, case["file"])
    assert submitted.status == 202, submitted.body
    job = client.wait(submitted.header("Location"))
    assert job["status"] == expected["jobStatus"], job
    assert job["counts"] == expected["counts"]

    errors = client.all_errors(job["id"])
    assert len(errors) == len(expected["failedRows"]), errors
    for got, want in zip(errors, expected["failedRows"]):
        for key in ("row", "line", "kind", "value", "property", "detail"):
            if key in want:
                assert got[key] == want[key], (key, got, want)

    properties = sorted({name for record in expected["records"] for name in record})
    exported = {row["email"]: row for row in export_records(client, properties, "ndjson")}
    assert len(exported) == len(expected["records"])
    for record in expected["records"]:
        stored = exported[record["email"]]
        for name, value in record.items():
            assert stored.get(name) == value, (name, stored, record)
