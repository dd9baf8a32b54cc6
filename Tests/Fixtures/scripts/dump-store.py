#!/usr/bin/python3
"""Prints a canonical dump of a faasten data directory's store: every row of every table
of faasten.sqlite (sorted), and every file under blobs/ with its SHA-256. Two dumps are
equal exactly when the store is byte for byte the same.

    dump-store.py DATA_DIR [--exclude TABLE ...]

The audit log is excluded by default: it records refusals (failed logins) by design.
Opened read-only, while the server runs (WAL readers do not block it).
"""
import hashlib
import os
import sqlite3
import sys


def main():
    data = sys.argv[1]
    excluded = {"audit"}
    args = sys.argv[2:]
    while args:
        if args[0] == "--exclude" and len(args) > 1:
            excluded.add(args[1])
            args = args[2:]
        else:
            sys.exit("usage: dump-store.py DATA_DIR [--exclude TABLE ...]")
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "faasten.sqlite"), uri=True)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        if table in excluded or table.startswith("sqlite_"):
            continue
        rows = [tuple(repr(value) for value in row) for row in db.execute('SELECT * FROM "%s"' % table)]
        print("table %s: %d rows" % (table, len(rows)))
        for row in sorted(rows):
            print("  " + " | ".join(row))
    blobs = os.path.join(data, "blobs")
    for root, _, files in sorted(os.walk(blobs)):
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            print("blob %s %s" % (os.path.relpath(path, blobs), digest))


if __name__ == "__main__":
    main()
