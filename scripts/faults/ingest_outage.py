#!/usr/bin/env python3
"""Readings sent to ingest while the development broker goes down and comes back.

Workers post batches of readings (with their own ids, `<prefix>-<worker>-<n>`) to
POST /v1/readings without pause; after --before seconds the broker is taken down through the
dev broker's control API (POST /v1/brokers/1/down), brought back after --down seconds
(POST /v1/brokers/1/up), and the workers go on for --after seconds. Ingest's /readyz is
sampled every half second. Every answer is recorded.

Prints the figures, writes the ids ingest answered 202 for to --accepted (one per line), and
exits 1 when an assertion on the answers fails:
  - while the broker is down, ingest answers 503, each with a Retry-After header;
  - no answer other than 202 or 503, and no connection error;
  - ingest recovers: from --recover-within seconds after the broker is back, every answer is 202.
A 503 means "nothing was accepted": its ids are not expected anywhere (they may still arrive,
as duplicates would).
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
import urllib.request


def post(url, path, body=b"", timeout=30):
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.getheader("Retry-After"), response.read()
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ingest", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--before", type=float, default=5)
    parser.add_argument("--down", type=float, default=10)
    parser.add_argument("--after", type=float, default=15)
    parser.add_argument("--recover-within", type=float, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--accepted", required=True)
    parser.add_argument("--refused", help="write the ids of readings answered 503 here")
    args = parser.parse_args()

    records = []  # (start, end, status or None, retry_after, ids, error)
    lock = threading.Lock()
    stop = threading.Event()
    start_time = time.monotonic()

    def worker(number):
        sequence = 0
        while not stop.is_set():
            ids = [f"{args.prefix}-{number}-{sequence + k}" for k in range(args.batch)]
            sequence += args.batch
            body = json.dumps([{"id": i, "device_id": f"edge-{(sequence + k) % 50 + 1}", "temperature": 21.0 + k % 5,
                                "pressure": 1013.0, "vibration": 0.02} for k, i in enumerate(ids)]).encode()
            began = time.monotonic()
            status = retry_after = error = None
            try:
                status, retry_after, answer = post(args.ingest, "/v1/readings", body)
                if status == 202:
                    accepted = json.loads(answer).get("ids", [])
                    if accepted != ids:
                        error = f"202 with ids {accepted[:3]}... instead of the ids sent"
            except Exception as exc:  # connection refused or reset, timeout: all failures here
                error = f"{type(exc).__name__}: {exc}"
            with lock:
                records.append((began - start_time, time.monotonic() - start_time, status, retry_after, ids, error))
            time.sleep(args.pause)

    readiness = []  # (time, status)

    def sample_readiness():
        while not stop.is_set():
            t = time.monotonic() - start_time
            try:
                with urllib.request.urlopen(args.ingest + "/readyz", timeout=3) as response:
                    readiness.append((t, response.status))
            except urllib.error.HTTPError as exc:
                readiness.append((t, exc.code))
            except Exception:
                readiness.append((t, None))
            time.sleep(0.5)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.workers)]
    threads.append(threading.Thread(target=sample_readiness))
    for thread in threads:
        thread.start()
    time.sleep(args.before)
    down_status = post(args.control, "/v1/brokers/1/down")[0]
    down_at = time.monotonic() - start_time
    time.sleep(args.down)
    up_status = post(args.control, "/v1/brokers/1/up")[0]
    up_at = time.monotonic() - start_time
    time.sleep(args.after)
    stop.set()
    for thread in threads:
        thread.join()

    failures = []
    if down_status != 200 or up_status != 200:
        failures.append(f"control API answered down {down_status}, up {up_status}")

    def phase(record):
        began, ended = record[0], record[1]
        if ended < down_at:
            return "before"
        if began >= up_at:
            return "after"
        return "outage"  # overlapped the outage

    counts = {}
    for record in records:
        key = (phase(record), record[2] if record[2] is not None else "error")
        counts[key] = counts.get(key, 0) + 1
    answered_503 = [r for r in records if r[2] == 503]
    without_retry_after = [r for r in answered_503 if not (r[3] or "").isdigit()]
    others = [r for r in records if r[2] not in (202, 503)]
    bad_202 = [r for r in records if r[2] == 202 and r[5]]
    outage_503 = [r for r in answered_503 if phase(r) == "outage"]
    first_202_after = min((r[1] for r in records if r[2] == 202 and r[1] > up_at), default=None)
    settled = [r for r in records if r[0] >= up_at + args.recover_within]
    settled_not_202 = [r for r in settled if r[2] != 202]
    last_not_202_after_up = max((r[1] for r in records if r[2] != 202 and r[1] > up_at), default=None)

    accepted_ids = [i for r in records if r[2] == 202 for i in r[4]]
    with open(args.accepted, "w") as f:
        f.write("\n".join(accepted_ids) + "\n")
    if args.refused:
        with open(args.refused, "w") as f:
            f.write("".join(i + "\n" for r in answered_503 for i in r[4]))

    print(f"requests={len(records)} of {args.batch} readings; broker down at {down_at:.1f} s, up at {up_at:.1f} s")
    for name in ("before", "outage", "after"):
        answers = ", ".join(f"{status}: {n}" for (p, status), n in sorted(counts.items(), key=str) if p == name)
        print(f"  {name:<7} {answers or '-'}")
    retry_values = sorted({r[3] for r in answered_503})
    print(f"503 answers={len(answered_503)} (during the outage {len(outage_503)}), Retry-After values {retry_values}, "
          f"without Retry-After {len(without_retry_after)}")
    print(f"accepted readings={len(accepted_ids)} (202 answers {sum(1 for r in records if r[2] == 202)})")
    if first_202_after is not None:
        print(f"first 202 answered {first_202_after - up_at:.1f} s after the broker came back; last non-202 "
              f"{'none' if last_not_202_after_up is None else f'{last_not_202_after_up - up_at:.1f} s'} after")
    down_ready = [s for t, s in readiness if down_at + 3 <= t < up_at]
    after_ready = [s for t, s in readiness if t >= up_at + args.recover_within]
    print(f"/readyz while down (from 3 s in): {sorted(set(map(str, down_ready)))}; "
          f"from {args.recover_within:.0f} s after up: {sorted(set(map(str, after_ready)))}")

    if not outage_503:
        failures.append("no 503 while the broker was down")
    if without_retry_after:
        failures.append(f"{len(without_retry_after)} 503 answers without a Retry-After header")
    if others:
        sample = others[0]
        failures.append(f"{len(others)} answers neither 202 nor 503 (first: {sample[2]} {sample[5]})")
    if bad_202:
        failures.append(f"{len(bad_202)} 202 answers with the wrong ids")
    if first_202_after is None:
        failures.append("no 202 after the broker came back")
    if not settled:
        failures.append("no request was sent in the recovery check period; raise --after")
    if settled_not_202:
        failures.append(f"{len(settled_not_202)} answers other than 202 from {args.recover_within:.0f} s after the broker came back")
    for failure in failures:
        print(f"PROBLEM: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
