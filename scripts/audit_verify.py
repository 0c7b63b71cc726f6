#!/usr/bin/env python3
"""Verifies an exported Crossview audit file offline (CSV or NDJSON, as the admin console or
`server audit archive` writes it), with nothing but Python's standard library.

    python3 scripts/audit_verify.py audit.ndjson
    python3 scripts/audit_verify.py audit.csv

Every row must hash to its `hash`: SHA-256 over its `prev_hash` and its canonical form (below).
The trail is several chains (shards); a row's `shard` and `seq` say which and where (rows
exported before shards have neither: shard 0, seq = id). Where two rows follow each other in a
shard (seq n and n+1), the second's `prev_hash` must be the first's `hash`, and along a shard
seq and id only grow. A filtered export checks every row and every link it holds; an
unfiltered one (or an archive) checks the whole chain of every shard it covers. Exits 0 and prints a summary if all holds,
1 and the first broken row if not.

Canonical form: for each field in CANONICAL order, "-" when it is null, else its UTF-8 byte
length, ":", and the text. `at` is as exported (UTC, microseconds, "Z"); `detail` is the JSON
text as exported, byte for byte. In CSV a null is an unquoted empty cell and every text is
quoted (`""` is the empty text); a text that a spreadsheet would take for a formula (starting
with = + - @, a tab or a carriage return), or that starts with ', was written with one more '
in front, which is taken off here. NDJSON is the byte-exact format.
"""

import hashlib
import json
import sys

CANONICAL = ["id", "at", "actor_id", "connection_id", "account_id", "action", "bucket", "key",
             "outcome", "class", "aws_request_id", "detail"]


def field(value):
    if value is None:
        return b"-"
    data = str(value).encode("utf-8")
    return str(len(data)).encode() + b":" + data


def row_hash(row):
    canonical = b"".join(field(row.get(name)) for name in CANONICAL)
    return hashlib.sha256(bytes.fromhex(row["prev_hash"]) + canonical).hexdigest()


def csv_records(text):
    """RFC 4180 records as lists of (text, quoted) cells: Python's csv module cannot tell an
    empty quoted cell from an unquoted one, which is how Crossview tells "" from null."""
    record, cell, quoted, i = [], [], False, 0
    while i < len(text):
        c = text[i]
        if c == '"' and not cell:
            end = i + 1
            while True:
                end = text.index('"', end)
                if text.startswith('""', end):
                    end += 2
                    continue
                break
            cell.append(text[i + 1:end].replace('""', '"'))
            quoted, i = True, end + 1
            continue
        if c in ",\n":
            record.append(("".join(cell), quoted))
            cell, quoted = [], False
            if c == "\n":
                yield record
                record = []
        elif c != "\r":
            cell.append(c)
        i += 1
    if cell or record:
        record.append(("".join(cell), quoted))
        yield record


def csv_value(text, quoted):
    if not quoted:
        return None if text == "" else text
    return text[1:] if text.startswith("'") else text


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        if path.endswith(".csv"):
            records = csv_records(f.read())
            names = [name for name, _ in next(records)]
            for record in records:
                yield {name: csv_value(*cell) for name, cell in zip(names, record)}
        else:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def main(path):
    count, links, last = 0, 0, {}
    for row in rows(path):
        count += 1
        if row_hash(row) != row["hash"]:
            print(f"row {row['id']}: its content does not match its hash (altered)")
            return 1
        row_id = int(row["id"])
        shard = int(row.get("shard") or 0)
        seq = int(row.get("seq") or row_id)
        previous = last.get(shard)
        if previous is not None:
            prev_id, prev_seq, prev_hash = previous
            if seq <= prev_seq or row_id <= prev_id:
                print(f"row {row_id}: out of order (after row {prev_id})")
                return 1
            if seq == prev_seq + 1:
                links += 1
                if row["prev_hash"] != prev_hash:
                    print(f"row {row_id}: does not follow row {prev_id} in the chain")
                    return 1
        last[shard] = (row_id, seq, row["hash"])
    if count == 0:
        print("no rows")
        return 1
    print(f"ok: {count} rows, {links} links checked in {len(last)} shards")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
