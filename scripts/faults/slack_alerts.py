#!/usr/bin/env python3
"""A known set of anomalies for the notifier, and the count of what reached the Slack stand-in.

    slack_alerts.py plan --prefix P --out DIR [--devices 4 --per-device 30 --sources 1 --per-source 10 --repeats 30]
        writes DIR/wave1 and DIR/wave2 (kcat -P -K '\\t' input: key TAB scored-form JSON), and
        DIR/expected.json (alerts per subject). Each subject gets half its anomalies in each
        wave; wave 2 also repeats --repeats events of wave 1 with the same ids, as a scorer that
        scores a batch twice would (the notifier must drop them by id).
    slack_alerts.py check --standin URL --expected DIR/expected.json [--timeout 150] [--settle 6]
        polls GET /_standin/requests until the alerts in accepted messages reach the expected
        total and stay unchanged for --settle seconds (so a late duplicate is still caught), then
        prints the figures. Exit status 1 unless every subject got exactly its alerts.

Alerts are counted from each accepted chat.postMessage's Slack metadata
(`metadata.event_payload`: `alerts`, `subjects`, `readings`, `logs`).
"""
import argparse
import collections
import json
import os
import sys
import time
import urllib.request


def scored_reading(event_id, device, n):
    return {"schema": 1, "kind": "reading", "id": event_id, "ts": "2026-11-21T08:00:%02dZ" % (n % 60), "device_id": device,
            "temperature": 80.0 + n % 10, "pressure": 960.0, "vibration": 0.4, "score": 0.7 + (n % 20) / 100,
            "anomaly": True, "severity": "critical" if n % 3 == 0 else "warning",
            "model": "isolation_forest@fault0test01", "scored_at": "2026-11-21T08:00:59Z"}


def scored_log(event_id, source, n):
    return {"schema": 1, "kind": "log", "id": event_id, "ts": "2026-11-21T08:00:%02dZ" % (n % 60), "source": source,
            "message": f"EXT4-fs error (device sda{n % 4}): remounting filesystem read-only", "level": "error",
            "score": 0.97, "anomaly": True, "severity": "critical", "model": "log_severity@fault0test01",
            "scored_at": "2026-11-21T08:00:59Z"}


def plan(args):
    os.makedirs(args.out, exist_ok=True)
    waves = [[], []]
    expected = {}
    for d in range(1, args.devices + 1):
        device = f"{args.prefix}-edge-{d}"
        expected[device] = args.per_device
        for n in range(args.per_device):
            waves[n * 2 // args.per_device].append((device, scored_reading(f"{args.prefix}-r{d}-{n}", device, n)))
    for s in range(1, args.sources + 1):
        source = f"{args.prefix}-db-{s}"
        expected[source] = args.per_source
        for n in range(args.per_source):
            waves[n * 2 // args.per_source].append((source, scored_log(f"{args.prefix}-l{s}-{n}", source, n)))
    waves[1] += waves[0][: args.repeats]
    for number, wave in enumerate(waves, start=1):
        with open(os.path.join(args.out, f"wave{number}"), "w") as f:
            for key, event in wave:
                f.write(key + "\t" + json.dumps(event, separators=(",", ":")) + "\n")
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump({"subjects": expected, "repeats": args.repeats, "readings": args.devices * args.per_device,
                   "logs": args.sources * args.per_source}, f)
    print(f"anomalies={sum(expected.values())} subjects={len(expected)} wave1={len(waves[0])} wave2={len(waves[1])} "
          f"(of which {args.repeats} repeated ids)")
    return 0


def tally(standin):
    with urllib.request.urlopen(standin + "/_standin/requests", timeout=10) as response:
        requests = json.load(response)["requests"]
    accepted = []
    answers = collections.Counter()
    for request in requests:
        if request.get("method") != "chat.postMessage":
            continue
        answers[request["status"] if request["status"] != 200 or "error" not in request else request["error"]] += 1
        if request["status"] == 200 and "error" not in request:
            accepted.append(request)
    per_subject = collections.Counter()
    totals = collections.Counter()
    digests = 0
    for request in accepted:
        body = request["body"] if isinstance(request["body"], dict) else {}
        payload = (body.get("metadata") or {}).get("event_payload") or {}
        alerts = int(payload.get("alerts", 0))
        subjects = payload.get("subjects") or []
        totals["alerts"] += alerts
        totals["readings"] += int(payload.get("readings", 0))
        totals["logs"] += int(payload.get("logs", 0))
        if len(subjects) == 1:
            per_subject[subjects[0]] += alerts
        else:
            digests += 1
    return requests, accepted, answers, per_subject, totals, digests


def check(args):
    with open(args.expected) as f:
        expected = json.load(f)
    want = sum(expected["subjects"].values())
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    last_total, stable_since, reached_at = None, time.monotonic(), None
    while True:
        requests, accepted, answers, per_subject, totals, digests = tally(args.standin)
        if totals["alerts"] != last_total:
            last_total, stable_since = totals["alerts"], time.monotonic()
        if totals["alerts"] >= want and reached_at is None:
            reached_at = time.monotonic() - started
        if totals["alerts"] >= want and time.monotonic() - stable_since >= args.settle:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)

    failed = [r for r in requests if r.get("method") == "chat.postMessage" and not (r["status"] == 200 and "error" not in r)]
    last_failure = max((r["received_at"] for r in failed), default="-")
    first_accept = min((r["received_at"] for r in accepted), default="-")
    print(f"expected alerts={want} ({len(expected['subjects'])} subjects, readings {expected['readings']}, logs {expected['logs']}); "
          f"delivered alerts={totals['alerts']} (readings {totals['readings']}, logs {totals['logs']}) "
          f"in {len(accepted)} accepted messages, {digests} digests")
    print("chat.postMessage answers: " + ", ".join(f"{k}: {n}" for k, n in sorted(answers.items(), key=str)))
    print(f"last failed answer at {last_failure}; first accepted at {first_accept}; all alerts delivered "
          f"{'never' if reached_at is None else f'{reached_at:.1f} s after the check began'}")
    print("per subject (delivered/expected): " + ", ".join(
        f"{s} {per_subject.get(s, 0)}/{n}" for s, n in sorted(expected["subjects"].items())))
    problems = []
    if totals["alerts"] != want:
        problems.append(f"{totals['alerts']} alerts delivered, {want} expected "
                        f"({'duplicates' if totals['alerts'] > want else 'lost'}: {abs(totals['alerts'] - want)})")
    for subject, n in expected["subjects"].items():
        if per_subject.get(subject, 0) != n and digests == 0:
            problems.append(f"{subject}: {per_subject.get(subject, 0)} alerts delivered, {n} expected")
    unexpected = set(per_subject) - set(expected["subjects"])
    if unexpected:
        problems.append(f"messages for unexpected subjects {sorted(unexpected)}")
    if digests:
        problems.append(f"{digests} digest messages: per-subject counts cannot be checked")
    if totals["readings"] != expected["readings"] or totals["logs"] != expected["logs"]:
        problems.append(f"readings/logs delivered {totals['readings']}/{totals['logs']}, expected {expected['readings']}/{expected['logs']}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--prefix", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--devices", type=int, default=4)
    p.add_argument("--per-device", type=int, default=30)
    p.add_argument("--sources", type=int, default=1)
    p.add_argument("--per-source", type=int, default=10)
    p.add_argument("--repeats", type=int, default=30)
    c = sub.add_parser("check")
    c.add_argument("--standin", required=True)
    c.add_argument("--expected", required=True)
    c.add_argument("--timeout", type=float, default=150)
    c.add_argument("--settle", type=float, default=6)
    args = parser.parse_args()
    return plan(args) if args.command == "plan" else check(args)


if __name__ == "__main__":
    sys.exit(main())
