#!/usr/bin/env python3
"""A plain Python import of a contacts CSV into jobgate's Redis key layout: the csv module reads
the file, and redis-py sends each batch of rows as pipelines.

  contacts_import.py --redis-url URL --tenant NAME --csv FILE [--batch-rows N]

It prints one JSON object with the counts and the seconds the import took. The checks follow
jobgate's rules as far as short code goes. Columns map by property name or label. Email addresses
are trimmed, checked and lower-cased. Phone numbers need a digit and no scientific notation, dates
are YYYY-MM-DD calendar dates, and enumeration values match an option ignoring case. A row whose
email address is already known updates that record. The redis-pipe reference turns the rows of
read_rows() into a stream of Redis commands.
"""
import argparse
import csv
import datetime
import json
import pathlib
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[4]
CATALOG = ROOT / "proto" / "properties.json"
OBJECT_TYPE = "contacts"
SCIENTIFIC = re.compile(r"^[+-]?[0-9]+([.,][0-9]*)?[eE][+-]?[0-9]+$")
DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
WHITESPACE = " \t\r\n\v\f"


def name_key(text):
    return "".join(text.split()).lower()


def load_properties():
    """Return the unique property and the property definitions of contacts from the catalog."""
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))["objectTypes"][OBJECT_TYPE]
    return catalog["uniqueProperty"], catalog["properties"]


def is_host_label(label):
    """Tell whether label is 1 to 63 letters, digits, inner hyphens or non-ASCII characters."""
    return (0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
            and all(not c.isascii() or c.isalnum() or c == "-" for c in label))


def check_email(value):
    """Return (normalised address, None) or (None, reason)."""
    if "@" not in value:
        return None, "an email address needs an @"
    if any(c in WHITESPACE or c in ',;()<>[]\\":' or ord(c) < 0x20 or c == "\x7f"
           for c in value):
        return None, "an email address contains a character that it cannot contain"
    local, _, domain = value.partition("@")
    if "@" in domain:
        return None, "an email address needs exactly one @"
    if not 1 <= len(local) <= 64 or local[0] == "." or local[-1] == "." or ".." in local:
        return None, "the part before the @ is not valid"
    domain = domain.lower()
    labels = domain.split(".")
    if (len(labels) < 2 or len(domain) > 253 or len(labels[-1]) < 2 or labels[-1].isdigit()
            or not all(is_host_label(label) for label in labels)):
        return None, "the domain after the @ is not a valid domain name"
    return local.lower() + "@" + domain, None


def check_value(definition, cell):
    """Return (value, None) for a value to store, ("", None) for an empty cell, or
    (None, (kind, reason)) for an invalid one."""
    kind = definition["type"]
    if kind == "string":
        return ("" if cell.strip(WHITESPACE) == "" else cell), None
    value = cell.strip(WHITESPACE)
    if value == "":
        return "", None
    if kind == "email":
        address, reason = check_email(value)
        return address, reason and ("invalid_email", reason)
    if kind == "phone":
        if not any(c.isdigit() for c in value):
            return None, ("invalid_phone", "a phone number needs at least one digit")
        if SCIENTIFIC.match(value):
            return None, ("invalid_phone", "the phone number is in scientific notation")
        return value, None
    if kind == "date":
        match = DATE.match(value)
        try:
            datetime.date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            match = None
        return (value, None) if match else (None, ("invalid_date", "expected a YYYY-MM-DD date"))
    if kind == "enumeration":
        for option in definition["options"]:
            if option.lower() == value.lower():
                return option, None
        return None, ("invalid_option", "the value is not one of the property's options")
    return value, None


def read_rows(path):
    """Yield one tuple per data row: ("v", unique key, [(property, value), ...]) for a valid row,
    ("r", error JSON) for a rejected one and ("b",) for a blank one."""
    unique_property, definitions = load_properties()
    by_key = {}
    for definition in definitions:
        by_key[name_key(definition["name"])] = definition
        by_key[name_key(definition["label"])] = definition
    with open(path, encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        header = next(reader)
        bindings = [(column, cell, by_key[name_key(cell)]) for column, cell in enumerate(header)
                    if name_key(cell) in by_key]
        row_number = 1
        for cells in reader:
            row_number += 1
            if all(cell.strip(WHITESPACE) == "" for cell in cells):
                yield ("b",)
                continue
            error = None
            if len(cells) != len(header):
                error = {"kind": "column_count_mismatch",
                         "detail": f"expected {len(header)} fields, got {len(cells)}"}
            key, values = None, []
            for column, column_name, definition in bindings if error is None else ():
                value, problem = check_value(definition, cells[column])
                if value == "" and definition["name"] == unique_property:
                    problem = ("missing_required", f"{unique_property} is required, but the "
                                                   "cell is empty")
                if problem:
                    error = {"kind": problem[0], "column": column_name,
                             "property": definition["name"], "value": cells[column],
                             "detail": problem[1]}
                    break
                if definition["name"] == unique_property:
                    key = value
                elif value:
                    values.append((definition["name"], value))
            if error:
                document = {"row": row_number, "line": reader.line_num, **error, "cells": cells}
                yield ("r", json.dumps(document, ensure_ascii=False, separators=(",", ":")))
            else:
                yield ("v", key, values)


def batches(rows, size):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def valid_rows(batch, counts, errors, blank="skipped_blank"):
    """Yield the (key, values) of the batch's valid rows. Blank rows count under counts[blank];
    rejected rows count under counts["failed"], and their errors go to errors."""
    for row in batch:
        if row[0] == "b":
            counts[blank] += 1
        elif row[0] == "r":
            errors.append(row[1])
            counts["failed"] += 1
        else:
            yield row[1], row[2]


def import_file(client, tenant, path, batch_rows):
    """Import path into tenant and return the counts. Each batch takes three round trips: look up
    the batch's addresses, take ids for the new ones, then write the records and the indexes."""
    prefix = f"jg:rec:{tenant}:{OBJECT_TYPE}:"
    index_key = f"jg:uniq:{tenant}:{OBJECT_TYPE}"
    ids_key = f"jg:recs:{tenant}:{OBJECT_TYPE}"
    sequence_key = f"jg:seq:{tenant}:{OBJECT_TYPE}"
    errors_key = f"jg:job:bench-python-{tenant}:errors"
    unique_property, _ = load_properties()
    counts = {"rows": 0, "created": 0, "updated": 0, "failed": 0, "skipped_blank": 0}
    for batch in batches(read_rows(path), batch_rows):
        now = str(int(time.time() * 1000))
        keys = list(dict.fromkeys(row[1] for row in batch if row[0] == "v"))
        found = client.hmget(index_key, keys) if keys else []
        ids = {key: found_id.decode() for key, found_id in zip(keys, found) if found_id}
        new_keys = [key for key in keys if key not in ids]
        next_id = client.incrby(sequence_key, len(new_keys)) - len(new_keys) if new_keys else 0

        pipeline = client.pipeline(transaction=False)
        index_entries, id_entries, errors = {}, {}, []
        counts["rows"] += len(batch)
        for key, values in valid_rows(batch, counts, errors):
            fields = dict(values)
            fields["updatedAt"] = now
            if key in ids:
                counts["updated"] += 1
            else:
                next_id += 1
                ids[key] = str(next_id)
                index_entries[key] = ids[key]
                id_entries[ids[key]] = next_id
                fields.update({unique_property: key, "id": ids[key], "createdAt": now})
                counts["created"] += 1
            pipeline.hset(prefix + ids[key], mapping=fields)
        if index_entries:
            pipeline.hset(index_key, mapping=index_entries)
            pipeline.zadd(ids_key, id_entries)
        if errors:
            pipeline.rpush(errors_key, *errors)
        pipeline.execute()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True, help="Redis server URL")
    parser.add_argument("--tenant", required=True, help="tenant whose records the rows become")
    parser.add_argument("--csv", required=True, help="contacts CSV to import")
    parser.add_argument("--batch-rows", type=int, default=1000,
                        help="rows per batch of pipelines (default 1000)")
    args = parser.parse_args()
    import redis

    client = redis.Redis.from_url(args.redis_url)
    started = time.monotonic()
    counts = import_file(client, args.tenant, args.csv, args.batch_rows)
    seconds = time.monotonic() - started
    print(json.dumps({**counts, "seconds": seconds, "redis_py": redis.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
