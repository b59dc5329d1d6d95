"""Schemathesis hooks for test_schemathesis.py, loaded through SCHEMATHESIS_HOOKS.

Some of the gateway's checks depend on stored data, which no schema can state. A property name
must exist in the tenant's catalog, and a range filter needs a number or date property. An
Idempotency-Key sent again must come with the same request. These hooks rewrite the requests that
Schemathesis generates as valid (positive mode) so they also pass those checks, as a real client's
requests would. Invalid (negative) requests are left as generated.
"""
import copy
import ipaddress
import json
import pathlib
import urllib.parse
import uuid

import schemathesis
from schemathesis import GenerationMode

CATALOG = json.loads((pathlib.Path(__file__).resolve().parents[2] / "proto" /
                      "properties.json").read_text(encoding="utf-8"))["objectTypes"]
RANGE_OPERATORS = {"GT", "GTE", "LT", "LTE", "BETWEEN"}
# Operands that every number or date property accepts, low and high.
RANGE_OPERANDS = {"number": ("1", "2"), "date": ("2024-01-01", "2024-12-31")}


def property_names(object_type, types=None):
    """Returns the built-in property names of an object type, of the given types if any."""
    properties = CATALOG.get(object_type, {}).get("properties", [])
    return [item["name"] for item in properties if types is None or item["type"] in types]


def property_type(object_type, name):
    for item in CATALOG.get(object_type, {}).get("properties", []):
        if item["name"] == name:
            return item["type"]
    return None


def catalog_names(names, object_type):
    """Replaces names the catalog lacks with unused catalog names, keeping the list distinct."""
    known = property_names(object_type)
    unused = [name for name in known if name not in names]
    result = []
    for name in names:
        if name in known and name not in result:
            result.append(name)
        elif unused:
            result.append(unused.pop(0))
    return result


def fix_filter(item, object_type):
    """Points a filter at a property its operator accepts, with operands of that property's type."""
    operator = item.get("operator")
    if operator in RANGE_OPERATORS:
        candidates = property_names(object_type, RANGE_OPERANDS)
        if item.get("propertyName") not in candidates:
            item["propertyName"] = candidates[0]
        low, high = RANGE_OPERANDS[property_type(object_type, item["propertyName"])]
        item["value"] = low
        if operator == "BETWEEN":
            item["highValue"] = high
        return
    # Any text is a valid operand of a string property, while other types parse their operands.
    candidates = property_names(object_type, {"string"})
    if item.get("propertyName") not in candidates:
        item["propertyName"] = candidates[len(item.get("propertyName", "")) % len(candidates)]


def fix_import_request(request):
    object_type = request.get("objectType")
    mappings = request.get("columnMappings")
    if not isinstance(mappings, list):
        return
    names = catalog_names([mapping["propertyName"] for mapping in mappings], object_type)
    del mappings[len(names):]
    for mapping, name in zip(mappings, names):
        mapping["propertyName"] = name


def fix_export_request(request):
    object_type = request.get("objectType")
    request["properties"] = catalog_names(request.get("properties", []), object_type)
    for item in request.get("filters", []):
        fix_filter(item, object_type)


def offline_url(text):
    """Moves a webhook URL whose host is a name to a name under .invalid (RFC 6761), which the
    gateway rejects without a DNS lookup, so the fuzzer never sends queries off this machine."""
    try:
        host = urllib.parse.urlsplit(text).hostname
    except ValueError:
        return text
    if not host:
        return text
    try:
        ipaddress.ip_address(host)
        return text
    except ValueError:
        return "https://hooks.example.invalid/jobgate"


# The test stack allows loopback and http targets, so a valid request gets this URL, which the
# gateway accepts without a lookup and where nothing listens.
LOOPBACK_URL = "http://127.0.0.1:9/jobgate-hook"


def rewrite_urls(body, positive):
    """Points the webhook URLs of a body at LOOPBACK_URL in a valid request, or off DNS in an
    invalid one."""
    targets = [body]
    if isinstance(body.get("importRequest"), dict):
        targets.append(body["importRequest"])
    for target in targets:
        for name in ("url", "callbackUrl"):
            if isinstance(target.get(name), str):
                target[name] = LOOPBACK_URL if positive else offline_url(target[name])


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
    if isinstance(case.body, dict):
        case.body = copy.deepcopy(case.body)
        rewrite_urls(case.body, positive)
    if not positive:
        return case
    # A client sends a new Idempotency-Key with every new request.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers = {**case.headers, "Idempotency-Key": str(uuid.uuid4())}
    operation = (case.operation.method.upper(), case.operation.path)
    if not isinstance(case.body, dict):
        return case
    # The generated body may be shared with Hypothesis's records, so the changes go to a copy.
    body = copy.deepcopy(case.body)
    if operation == ("POST", "/v1/imports") and isinstance(body.get("importRequest"), dict):
        fix_import_request(body["importRequest"])
    elif operation == ("POST", "/v1/exports"):
        fix_export_request(body)
    case.body = body
    return case
