#!/usr/bin/env python3
"""Malformed messages for the scorer, and the check of what it dead-lettered.

    malformed.py generate --count 10000 --out DIR
        writes DIR/messages (kcat -P input: key, TAB, value, then the message separator) and
        DIR/manifest.json (per key: its category and the SHA-256 of its value).
    malformed.py check --manifest DIR/manifest.json < dlq.tsv
        reads `kcat -f '%p\\t%o\\t%s\\n'` output of readings.dlq and checks that every message
        was dead-lettered exactly once, with a reason code the category allows, a non-empty
        reason, the source topic/partition/offset, the original key, and the original payload
        (its first 64 KiB). Prints the figures; exit status 1 if anything is off.

Each message's key is `m<index>.<category>`: the dead letter keeps the original key, so
every dead letter leads back to the message and category that caused it.
"""
import argparse
import base64
import collections
import hashlib
import json
import os
import random
import sys

SEPARATOR = b"\n~~alertron-fault-separator-5d1c09~~\n"
PAYLOAD_LIMIT = 64 * 1024  # what a dead letter keeps of the payload (BatchScorer.deadLetterPayloadLimit)

VALID = {"schema": 1, "kind": "reading", "id": "x", "ts": "2026-11-21T08:00:00Z", "device_id": "edge-1",
         "temperature": 21.5, "pressure": 1013.0, "vibration": 0.02}
VALID_LOG = {"schema": 1, "kind": "log", "id": "x", "ts": "2026-11-21T08:00:00Z", "source": "db-1", "message": "ok"}

# Category: reason codes it may be dead-lettered with (EventError.Code, or empty_message).
ALLOWED = {
    "random_bytes": {"malformed_json"},
    "truncated_json": {"malformed_json"},
    "not_an_object": {"malformed_json", "wrong_type"},
    "invalid_utf8": {"malformed_json"},
    "deep_nesting": {"malformed_json"},
    "wrong_type": {"wrong_type"},
    "missing_field": {"missing_field"},
    "invalid_value": {"invalid_value"},
    "non_finite_number": {"invalid_value", "malformed_json"},
    "unsupported_schema": {"unsupported_schema"},
    "unknown_kind": {"unknown_kind"},
    "huge_log_message": {"too_large"},
    "huge_field": {"too_large", "invalid_value"},
    "huge_payload": {"too_large", "invalid_value", "malformed_json"},
    "empty": {"empty_message"},
}

# Share of the messages per category (the rest of the count goes to random_bytes).
SHARES = [
    ("truncated_json", 0.10), ("not_an_object", 0.04), ("invalid_utf8", 0.04), ("deep_nesting", 0.01),
    ("wrong_type", 0.18), ("missing_field", 0.10), ("invalid_value", 0.08), ("non_finite_number", 0.04),
    ("unsupported_schema", 0.03), ("unknown_kind", 0.03), ("huge_log_message", 0.03), ("huge_field", 0.01),
    ("huge_payload", 0.002), ("empty", 0.01),
]


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def event(rng, i, log=False):
    e = dict(VALID_LOG if log else VALID)
    e["id"] = f"malformed-{i}"
    return e


def random_bytes(rng, i):
    return rng.randbytes(rng.randint(1, 600))


def truncated_json(rng, i):
    full = dumps(event(rng, i, log=rng.random() < 0.3))
    return full[: rng.randint(1, len(full) - 1)]


def not_an_object(rng, i):
    return rng.choice([b"[]", b"[1,2,3]", b"42", b"-0.5e3", b'"reading"', b"null", b"true", b"false",
                       dumps([event(rng, i)]), b"  ", b"{}{}", dumps(event(rng, i)) + b" trailing"])


def invalid_utf8(rng, i):
    e = dumps(event(rng, i, log=True))
    bad = rng.choice([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    return e.replace(b'"ok"', b'"o' + bad + b'k"') if rng.random() < 0.5 else e.replace(b'"db-1"', b'"db' + bad + b'"')


def deep_nesting(rng, i):
    depth = rng.choice([200, 1000, 10000, 100000])
    opener, closer = (b"[", b"]") if rng.random() < 0.5 else (b'{"a":', b"}")
    inner = opener * depth + b"1" + closer * depth
    return b'{"schema":1,"kind":"reading","id":"d","ts":"2026-11-21T08:00:00Z","device_id":"edge-1","temperature":' + inner + b"}"


NOT_STRINGS = [1.5, 7, True, False, None, [], {}, ["a"], {"a": "b"}]
NOT_NUMBERS = ["21.5", "text", "", True, None, [], {}, [1.5], {"value": 1.5}]


def wrong_type(rng, i):
    log = rng.random() < 0.25
    e = event(rng, i, log)
    strings = ["id", "ts", "source", "message", "kind"] if log else ["id", "ts", "device_id", "kind"]
    numbers = [] if log else ["temperature", "pressure", "vibration"]
    field = rng.choice(strings + numbers)
    e[field] = rng.choice(NOT_STRINGS if field in strings else NOT_NUMBERS)
    return dumps(e)


def missing_field(rng, i):
    log = rng.random() < 0.25
    e = event(rng, i, log)
    fields = ["id", "ts", "source", "message", "kind", "schema"] if log else \
        ["id", "ts", "device_id", "temperature", "pressure", "vibration", "kind", "schema"]
    for field in rng.sample(fields, rng.randint(1, 3)):
        e.pop(field, None)
    return dumps(e)


def invalid_value(rng, i):
    e = event(rng, i)
    case = rng.randrange(4)
    if case == 0:
        e["device_id"] = ""
    elif case == 1:
        e["ts"] = rng.choice(["yesterday", "2026-13-45T99:99:99Z", "", "2026-11-21 08:00:00", "1700000000"])
    elif case == 2:
        e["id"] = ""
    else:
        log = event(rng, i, log=True)
        log["source"] = ""
        e = log
    return dumps(e)


def non_finite_number(rng, i):
    token = rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"nan", b"inf"])
    field = rng.choice([b"temperature", b"pressure", b"vibration"])
    e = dumps(event(rng, i))
    start = e.index(b'"' + field + b'":') + len(field) + 3
    end = start
    while e[end:end + 1] not in (b",", b"}"):
        end += 1
    return e[:start] + token + e[end:]


def unsupported_schema(rng, i):
    e = event(rng, i, log=rng.random() < 0.3)
    e["schema"] = rng.choice([0, 2, 99, -1])
    return dumps(e)


def unknown_kind(rng, i):
    e = event(rng, i)
    e["kind"] = rng.choice(["metric", "READING", "", "logs", "trace", "dead_letter"])
    return dumps(e)


def huge_log_message(rng, i):
    e = event(rng, i, log=True)
    e["message"] = "disk failure " * (rng.randint(8 * 1024 + 1, 40 * 1024) // 13 + 1)
    return dumps(e)


def huge_field(rng, i):
    # Far over any sane size for a field that has no stated limit; must still dead-letter, not crash.
    e = event(rng, i)
    field = rng.choice(["device_id", "id", "ts"])
    e[field] = "x" * rng.randint(64 * 1024, 256 * 1024)
    if field != "ts":
        e["ts"] = "not a time"  # stays invalid even if a long id or device is allowed
    return dumps(e)


def huge_payload(rng, i):
    # Near the broker's 1 MB message limit: a log message of ~600 KB.
    e = event(rng, i, log=True)
    e["message"] = "A" * rng.randint(300 * 1024, 600 * 1024)
    return dumps(e)


def empty(rng, i):
    return b""


def generate(args):
    rng = random.Random(args.seed)
    plan = []
    for category, share in SHARES:
        plan += [category] * max(1, int(args.count * share))
    plan += ["random_bytes"] * (args.count - len(plan))
    rng.shuffle(plan)
    os.makedirs(args.out, exist_ok=True)
    manifest = {}
    with open(os.path.join(args.out, "messages"), "wb") as out:
        for index, category in enumerate(plan):
            value = globals()[category](rng, index)
            while SEPARATOR in value or SEPARATOR[:-1] in value:
                value = globals()[category](rng, index)
            key = f"m{index}.{category}"
            manifest[key] = {"category": category, "sha256": hashlib.sha256(value[:PAYLOAD_LIMIT]).hexdigest(),
                             "size": len(value)}
            out.write(key.encode() + b"\t" + value + SEPARATOR)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    counts = collections.Counter(plan)
    print(f"messages={len(plan)} categories=" + ",".join(f"{c}:{n}" for c, n in sorted(counts.items())))
    return 0


def check(args):
    with open(args.manifest) as f:
        manifest = json.load(f)
    seen = collections.Counter()
    by_reason = collections.Counter()
    by_category = collections.defaultdict(collections.Counter)
    problems = collections.Counter()
    examples = {}
    positions = set()
    letters = 0
    for raw in sys.stdin.buffer:
        parts = raw.rstrip(b"\n").split(b"\t", 2)
        if len(parts) != 3:
            problems["unreadable line"] += 1
            continue
        try:
            letter = json.loads(parts[2])
        except ValueError:
            problems["dead letter is not JSON"] += 1
            continue
        letters += 1
        key = base64.b64decode(letter.get("key_base64", "")).decode("utf-8", "replace")
        if key not in manifest:
            problems["dead letter of an unknown message"] += 1
            continue
        seen[key] += 1
        category = manifest[key]["category"]
        code = letter.get("reason_code", "")
        by_reason[code] += 1
        by_category[category][code] += 1
        examples.setdefault(code, letter.get("reason", ""))
        if code not in ALLOWED[category]:
            problems[f"{category} dead-lettered as {code}"] += 1
        if not letter.get("reason"):
            problems["empty reason"] += 1
        if letter.get("rejected_by") != "scorer":
            problems["rejected_by is not scorer"] += 1
        source = letter.get("source", {})
        if source.get("topic") != "readings" or not isinstance(source.get("partition"), int) or not isinstance(source.get("offset"), int):
            problems["source topic/partition/offset missing"] += 1
        else:
            positions.add((source["partition"], source["offset"]))
        payload = base64.b64decode(letter.get("payload_base64", ""))
        if hashlib.sha256(payload).hexdigest() != manifest[key]["sha256"]:
            problems["payload differs from the message sent"] += 1
        if manifest[key]["size"] > PAYLOAD_LIMIT and "truncated" not in letter.get("reason", ""):
            problems["truncated payload not said in the reason"] += 1

    missing = [k for k in manifest if k not in seen]
    repeated = sum(n - 1 for n in seen.values() if n > 1)
    print(f"sent={len(manifest)} dead_letters={letters} dead_lettered_messages={len(seen)} missing={len(missing)} "
          f"repeated={repeated} distinct_source_positions={len(positions)}")
    print("by reason: " + ", ".join(f"{code} {n}" for code, n in by_reason.most_common()))
    for category in sorted(by_category):
        print(f"  {category:<20} " + ", ".join(f"{code} {n}" for code, n in by_category[category].most_common()))
    for code, reason in sorted(examples.items()):
        print(f"  e.g. {code}: {reason[:160]}")
    if missing:
        print("missing (first 10): " + ", ".join(sorted(missing)[:10]))
    for problem, n in problems.most_common():
        print(f"PROBLEM: {problem}: {n}")
    return 0 if not missing and not problems else 1


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--count", type=int, default=10000)
    g.add_argument("--seed", type=int, default=8)
    g.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--manifest", required=True)
    args = parser.parse_args()
    return generate(args) if args.command == "generate" else check(args)


if __name__ == "__main__":
    sys.exit(main())
