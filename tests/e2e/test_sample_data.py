"""Public sample CRM files from the shared data folder: every row imported, export equal to input.

Skipped when the folder is absent."""
import csv
import io

import pytest

from conftest import SHARED
from test_import_export import export_records

SAMPLES = SHARED / "data" / "datablist-sample-csv"

CONTACT_FILES = {
    "customers-1000.csv": {"Email": "email", "First Name": "firstname", "Last Name": "lastname",
                           "Company": "company", "City": "city", "Country": "country",
                           "Phone 1": "phone", "Website": "website"},
    "people-1000.csv": {"Email": "email", "First Name": "firstname", "Last Name": "lastname",
                        "Phone": "phone", "Job Title": "jobtitle"},
}


def expected_contacts(data, mapping):
    """Merges rows by lower-cased email in file order: a later non-empty value wins."""
    records, created, updated = {}, 0, 0
    for row in csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")):
        email = row["Email"].strip().lower()
        values = {prop: row[column] for column, prop in mapping.items() if row[column].strip()}
        values["email"] = email
        if email in records:
            updated += 1
            records[email].update(values)
        else:
            created += 1
            records[email] = values
    return records, created, updated


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is absent")
@pytest.mark.parametrize("name", sorted(CONTACT_FILES))
def test_sample_contacts_round_trip(fresh, name):
    data = (SAMPLES / name).read_bytes()
    mapping = CONTACT_FILES[name]
    records, created, updated = expected_contacts(data, mapping)
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": column, "propertyName": prop}
                                  for column, prop in mapping.items()]}
    submitted = fresh.client.submit_import(data, request, name)
    assert submitted.status == 202, submitted.body
    job = fresh.client.wait(submitted.header("Location"))
    assert job["status"] == "DONE", job
    assert job["counts"]["failed"] == 0, fresh.client.all_errors(job["id"])[:5]
    assert job["counts"]["created"] == created
    assert job["counts"]["updated"] == updated
    assert sorted(job["unmappedColumns"]) == sorted(
        set(data.decode().splitlines()[0].split(",")) - set(mapping))

    properties = sorted(set(mapping.values()))
    exported = {row["email"]: row for row in export_records(fresh.client, properties, "ndjson")}
    assert set(exported) == set(records)
    for email, record in records.items():
        assert exported[email] == record, email
