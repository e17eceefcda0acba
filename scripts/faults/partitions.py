#!/usr/bin/env python3
"""The partitions a consumer owns, from its JSON log's "kafka rebalance" lines.

    partitions.py LOG [--since EPOCH_SECONDS]

Applies every `assigned` / `revoked` event in order (cooperative-sticky: incremental) and
prints `owned=<p,p,...> count=<n>`; with --since, also `assigned_since=<p,...>` (partitions
assigned at or after that time) and `first_assigned_after_s=<seconds from --since to the
first of those assignments>`.
"""
import argparse
import datetime
import json
import re


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--since", type=float)
    args = parser.parse_args()
    owned = set()
    assigned_since = set()
    first_after = None
    with open(args.log, errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") != "kafka rebalance":
                continue
            partitions = {int(p) for p in re.findall(r"\[(\d+)\]", entry.get("partitions", ""))}
            if entry.get("kind") == "assigned":
                owned |= partitions
            elif entry.get("kind") == "revoked":
                owned -= partitions
            else:
                continue
            if args.since is not None and entry.get("kind") == "assigned":
                at = datetime.datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
                if at >= args.since:
                    assigned_since |= partitions
                    if first_after is None:
                        first_after = at - args.since
    line = f"owned={','.join(map(str, sorted(owned))) or '-'} count={len(owned)}"
    if args.since is not None:
        line += f" assigned_since={','.join(map(str, sorted(assigned_since))) or '-'}"
        line += f" first_assigned_after_s={'-' if first_after is None else f'{first_after:.1f}'}"
    print(line)


if __name__ == "__main__":
    main()
