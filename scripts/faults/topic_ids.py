#!/usr/bin/env python3
"""Counts event ids on a topic against the ids that should be there.

Reads kcat output on stdin, one message per line as `kcat -f '%p\t%o\t%s\n'` prints it
(partition, offset, JSON value), keeps the events whose id is expected, and prints:

    records=<messages with an expected id> unique=<distinct expected ids seen>
    expected=<ids expected> missing=<expected ids not seen> duplicates=<records - unique>

plus, with --detail, the first missing ids and the records per partition. Expected ids are
`<prefix>-0` ... `<prefix>-<count-1>` (the generator's `<run-id>-<sequence>`) or the lines of
--expect-file. Exit status 0 when nothing is missing, 1 otherwise.
"""
import argparse
import collections
import json
import sys


def expected_ids(args):
    if args.expect_file:
        with open(args.expect_file) as f:
            return {line.strip() for line in f if line.strip()}
    return {f"{args.prefix}-{n}" for n in range(args.count)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--expect-file")
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()
    expected = expected_ids(args)

    seen = collections.Counter()
    per_partition = collections.Counter()
    unreadable = 0
    for raw in sys.stdin.buffer:
        parts = raw.rstrip(b"\n").split(b"\t", 2)
        if len(parts) != 3:
            unreadable += 1
            continue
        try:
            event_id = json.loads(parts[2]).get("id")
        except (ValueError, AttributeError):
            unreadable += 1
            continue
        if event_id in expected:
            seen[event_id] += 1
            per_partition[int(parts[0])] += 1

    records = sum(seen.values())
    unique = len(seen)
    missing = len(expected) - unique
    print(f"records={records} unique={unique} expected={len(expected)} missing={missing} "
          f"duplicates={records - unique} unreadable={unreadable}")
    if args.detail:
        if missing:
            sample = sorted(expected - set(seen), key=lambda i: (len(i), i))[:10]
            print("missing_sample=" + ",".join(sample))
        print("per_partition=" + ",".join(f"{p}:{n}" for p, n in sorted(per_partition.items())))
        repeated = collections.Counter(n for n in seen.values() if n > 1)
        if repeated:
            print("repeats=" + ",".join(f"{n}x:{ids}" for n, ids in sorted(repeated.items())))
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
