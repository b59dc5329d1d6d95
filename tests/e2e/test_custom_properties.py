"""Custom properties per tenant: defined over HTTP, validated on import, usable in exports."""
import json

from test_import_export import export_records


def define(client, object_type, definition):
    return client.post_json(f"/v1/properties/{object_type}", definition)


def test_define_list_and_read_properties(fresh):
    client = fresh.client
    created = define(client, "contacts", {"name": "tier", "label": "Tier", "type": "enumeration",
                                          "options": ["gold", "silver"]})
    assert created.status == 201, created.body
    assert created.header("Location").endswith("/v1/properties/contacts/tier")
    assert created.json() == {"name": "tier", "label": "Tier", "type": "enumeration",
                              "options": ["gold", "silver"], "unique": False, "required": False,
                              "custom": True}
    listed = client.get("/v1/properties/contacts").json()["results"]
    names = [p["name"] for p in listed]
    assert names[0] == "email"
    assert names[-1] == "tier"
    assert [p["custom"] for p in listed].count(True) == 1
    assert client.get("/v1/properties/contacts/tier").json()["options"] == ["gold", "silver"]
    assert client.get("/v1/properties/contacts/email").json()["unique"] is True
    # Another tenant does not see it: for that tenant the property resource does not exist.
    other = fresh.new_client()
    hidden = other.get("/v1/properties/contacts/tier")
    assert hidden.status == 404
    assert hidden.json()["type"] == "https://jobgate.dev/problems/not-found"
    assert hidden.json()["value"] == "tier"


def test_bad_definitions_are_rejected(fresh):
    client = fresh.client
    cases = [
        ({"name": "Tier", "type": "string"}, 400, "invalid-request"),
        ({"name": "tier", "type": "colour"}, 400, "invalid-request"),
        ({"name": "tier", "type": "enumeration"}, 400, "invalid-request"),
        ({"name": "tier", "type": "string", "options": ["a"]}, 400, "invalid-request"),
        ({"name": "email", "type": "string"}, 409, "property-exists"),
    ]
    for definition, status, slug in cases:
        response = define(client, "contacts", definition)
        assert response.status == status, (definition, response.body)
        assert response.json()["type"].endswith("/" + slug)
    assert define(client, "contacts", {"name": "score", "type": "number"}).status == 201
    again = define(client, "contacts", {"name": "score", "type": "number"})
    assert again.status == 409
    assert define(client, "deals", {"name": "score", "type": "number"}).status == 404


def test_custom_properties_in_import_and_export(fresh):
    client = fresh.client
    assert define(client, "contacts", {"name": "tier", "type": "enumeration",
                                       "options": ["gold", "silver"]}).status == 201
    assert define(client, "contacts", {"name": "renewal", "type": "date"}).status == 201
    data = (b"email,tier,renewal\n"
            b"a@example.com,Gold,2025-02-01\n"
            b"b@example.com,bronze,2025-02-02\n"
            b"c@example.com,silver,02/03/2025\n")
    response = client.submit_import(data, {"objectType": "contacts"})
    assert response.status == 202, response.body
    job = client.wait(response.header("Location"))
    assert job["status"] == "DONE", job
    assert job["counts"]["created"] == 1
    errors = client.all_errors(job["id"])
    assert [(e["row"], e["kind"]) for e in errors] == [(3, "invalid_option"), (4, "invalid_date")]
    rows = export_records(client, ["email", "tier", "renewal"])
    assert rows == [{"email": "a@example.com", "tier": "gold", "renewal": "2025-02-01"}]
    # An unknown property is still refused at submission.
    refused = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["plan"]})
    assert refused.status == 400
    assert refused.json()["type"].endswith("/unknown-property")


def test_mapping_to_a_custom_property_needs_its_definition(fresh):
    client = fresh.client
    request = {"objectType": "contacts",
               "columnMappings": [{"columnName": "email", "propertyName": "email"},
                                  {"columnName": "Notes", "propertyName": "notes"}]}
    response = client.submit_import(b"email,Notes\na@example.com,hi\n", request)
    assert response.status == 400
    assert define(client, "contacts", {"name": "notes", "type": "string"}).status == 201
    response = client.submit_import(b"email,Notes\na@example.com,hi\n", request)
    assert response.status == 202, response.body
    assert client.wait(response.header("Location"))["status"] == "DONE"
    record = client.get("/v1/objects/contacts/a%40example.com?idProperty=email").json()
    assert record["properties"]["notes"] == "hi"
