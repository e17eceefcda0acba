"""Faults only a process can have, on the debug build that `make test` makes: the scorer killed
(SIGKILL) mid-stream and restarted, killed while its devices are warm and mid-episode (the
successor restores them from scorer.state), one of two scorer replicas killed, the notifier killed
between an incident's first message and its resolution (its successor updates that message), a
person's "not an anomaly" clicked in Slack retuning the real scorer, and HTTP fuzzing
of ingest and the notifier's webhook. (Broker outages, Slack failing and malformed input are Swift tests:
BrokerOutageFaultTests, IngestLiveTests, SlackFailureFaultTests, MalformedInputFaultTests.)

    python3 -m pytest -s scripts/faults                      # all of them (make test-faults)
    python3 -m pytest -s scripts/faults -k fuzz              # some
    KEEP_RUN_DIR=1 FUZZ_SEED=7 python3 -m pytest -s scripts/faults -k fuzz

Knobs: KILL_COUNT / KILL_RATE [60000 readings at 3000/s], REPLICAS_COUNT / REPLICAS_RATE [the
same], FUZZ_REQUESTS [4000], FUZZ_SEED [1]. Each test prints its figures (RELIABILITY.md).
"""
import datetime
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

import harness
import http_fuzz
from harness import binary, http_status, metric_sum, wait_until


def figure(text):
    print(f"  figure: {text}")


def duplicate_bound(settings):
    return int(settings["SCORER_BATCH_SIZE"]) * int(settings["SCORER_BATCHES_IN_FLIGHT"])


def scored_so_far(*ports):
    return sum(metric_sum(port, "predictions_total") for port in ports)


def test_kill(mesh, scorer_settings):
    """SIGKILL the scorer mid-stream and restart it: nothing lost, duplicates bounded."""
    count, rate = int(os.environ.get("KILL_COUNT", 60000)), int(os.environ.get("KILL_RATE", 3000))
    run, port, generator_port = f"kill{os.getpid()}", harness.free_port(), harness.free_port()
    mesh.start_broker()
    scorer = mesh.start_service("scorer", "scorer", port)
    mesh.wait_ready(scorer, port)
    generator = mesh.start("generator", [binary("generator"), "generate", "--target", "kafka", "--count", str(count),
                                         "--rate", str(rate), "--seed", "1", "--run-id", run],
                           mesh.service_env(harness.free_port()))
    wait_until(lambda: scored_so_far(port) >= count // 3, 60)
    before = scored_so_far(port)
    scorer.kill()
    killed_at = time.monotonic()
    figure(f"scorer killed (SIGKILL) after {before} readings scored of {count} (stream at {rate}/s)")
    assert generator.alive(), "the generator was still sending when the scorer was killed"
    restarted = mesh.start_service("scorer-restarted", "scorer", port)
    mesh.wait_ready(restarted, port)
    generator_status = generator.wait(120)
    expected = harness.run_ids(run, count)
    scored = mesh.ids("scored", expected, wait=180)
    readings = mesh.ids("readings", expected)
    bound = duplicate_bound(scorer_settings)
    figure(f"readings topic: {readings.unique} unique of {count}; scored topic: {scored.unique} unique, "
           f"{scored.duplicates} duplicates, {scored.missing} missing")
    figure(f"caught up {time.monotonic() - killed_at:.0f} s after the kill; the restarted scorer scored {scored_so_far(port)}")
    figure(f"duplicates {scored.duplicates}; bound batch size x batches in flight = {bound}")
    assert generator_status == 0, "the generator exits 0: every reading acknowledged"
    assert readings.unique == count, "every reading the generator sent is on readings"
    assert scored.missing == 0, f"0 readings lost; missing e.g. {scored.missing_sample}"
    assert scored.duplicates <= bound


def produce(mesh, events):
    """Events (dicts with a device_id) onto readings, keyed by device, through kcat."""
    lines = "".join(f"{e['device_id']}\t{json.dumps(e)}\n" for e in events)
    subprocess.run(["kcat", "-b", mesh.brokers, "-P", "-t", "readings", "-K", "\t"], input=lines.encode(),
                   check=True, timeout=60)


def test_kill_keeps_devices_warm(mesh):
    """SIGKILL the scorer while six devices are warm and three of them are mid-episode. Its
    successor restores them from scorer.state: no device learns again (no false alerts), the
    open episodes continue under their ids and close once, no episode opens twice."""
    warm_up, devices, faulty = 60, [f"pump-{n}" for n in range(6)], {"pump-0", "pump-1", "pump-2"}
    noise = random.Random(3)
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    minute = {"n": 0}

    def tick(offset_devices=()):
        """One reading of every device, a minute after the last; `offset_devices` vibrate 10σ high."""
        minute["n"] += 1
        ts = (start + datetime.timedelta(minutes=minute["n"])).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [{"schema": 1, "kind": "reading", "id": f"{d}-r{minute['n']}", "ts": ts, "device_id": d,
                 "temperature": round(24 + 0.5 * noise.gauss(0, 1), 2),
                 "pressure": round(1005 + 3 * noise.gauss(0, 1), 2),
                 "vibration": round(0.02 + 0.002 * noise.gauss(0, 1) + (0.02 if d in offset_devices else 0), 4)}
                for d in devices]

    port_a, port_b = harness.free_port(), harness.free_port()
    mesh.start_broker()
    a = mesh.start_service("scorer-a", "scorer", port_a, SCORER_WARM_UP=warm_up)
    mesh.wait_ready(a, port_a)
    learning = [e for _ in range(warm_up + 40) for e in tick()]
    produce(mesh, learning)
    opening = [e for _ in range(2) for e in tick(faulty)]
    produce(mesh, opening)
    sent = len(learning) + len(opening)
    # Counted once delivered: the scored events, the anomalies and the state records of each batch.
    assert wait_until(lambda: scored_so_far(port_a) >= sent, 60), f"scorer-a scored {scored_so_far(port_a)} of {sent}"
    anomalies_before = [json.loads(v) for _, _, v in mesh.read_topic("anomalies")]
    # Episodes judged by the devices' own normal (the fleet model's flags while learning are not the test's).
    episode_of = {e["device_id"]: e["episode"]["id"] for e in anomalies_before if e.get("model") == "device_baseline@1"}
    assert set(episode_of) == faulty, f"episodes open before the kill: {episode_of}"
    # The consumer commits stored offsets every second: wait for it, so that the successor does not
    # simply replay the whole stream from the start (which would warm the devices up again by itself).
    time.sleep(3)
    a.kill()
    figure(f"scorer-a killed (SIGKILL) with {len(devices)} devices warm, {len(faulty)} mid-episode: {sorted(episode_of.values())}")

    b = mesh.start_service("scorer-b", "scorer", port_b, SCORER_WARM_UP=warm_up)
    mesh.wait_ready(b, port_b)
    continuing = [e for _ in range(2) for e in tick(faulty)]
    settling = [e for _ in range(20) for e in tick()]
    produce(mesh, continuing + settling)
    expected = {e["id"] for e in continuing + settling}
    summary = mesh.ids("scored", expected, wait=90)
    assert summary.missing == 0, f"scorer-b scored every reading after the kill; missing e.g. {summary.missing_sample}"
    restored = metric_sum(port_b, "alertron_scorer_state_restored_devices_total")
    figure(f"scorer-b restored {restored} devices from scorer.state")

    scored_after = [json.loads(v) for _, _, v in mesh.read_topic("scored")]
    after = [e for e in scored_after if e["id"] in expected]
    cold = [e["id"] for e in after if e["model"] != "device_baseline@1"]
    assert not cold, f"judged by the fleet model (a device learning again) after the takeover: {cold[:5]}"
    # An episode's tail (its shift chart settling) still belongs to it; anything else would be a new, false episode.
    false_alerts = [e["id"] for e in after if e["anomaly"] and e["episode"]["id"] != episode_of.get(e["device_id"])]
    assert not false_alerts, f"false alerts after the takeover: {false_alerts[:5]}"
    for e in after:
        if e["device_id"] in faulty and e["id"] in {c["id"] for c in continuing}:
            assert e["anomaly"], f"{e['id']} (still vibrating) not flagged after the takeover"
            assert e["episode"] == {"id": episode_of[e["device_id"]], "state": "continues"}, e["episode"]

    anomalies = [json.loads(v) for _, _, v in mesh.read_topic("anomalies")]
    ids = {}
    for e in anomalies:
        if e.get("kind") != "episode_closed" and e.get("model") == "device_baseline@1":
            ids.setdefault(e["device_id"], set()).add(e["episode"]["id"])
    assert {d: i for d, i in ids.items()} == {d: {episode_of[d]} for d in faulty}, f"episodes per device: {ids}"
    closed = [e["episode_id"] for e in anomalies if e.get("kind") == "episode_closed"]
    figure(f"after the takeover: {len(after)} readings judged by their own normal, 0 false alerts; "
           f"episodes closed: {sorted(closed)}")
    assert sorted(set(closed)) == sorted(episode_of.values()), f"each episode closed: {closed}"
    assert restored == len(devices), f"{restored} devices restored, {len(devices)} expected"


def test_kill_notifier_keeps_its_messages(mesh):
    """SIGKILL the notifier between an incident's first message and its resolution. Its successor
    reads the incident back from notifier.incidents: the later alerts and the episode's end update
    the original message in place (no second message), and the resolution replies in its thread."""
    mesh.start_broker()
    slack_port = harness.free_port()
    standin = mesh.start("slack-standin", [binary("alertron-slack-standin"), "--listen", f"127.0.0.1:{slack_port}",
                                           "--token", "xoxb-faults"])
    slack = f"http://127.0.0.1:{slack_port}"
    assert wait_until(lambda: http_status(slack + "/healthz") == 200, 20), standin.log_tail()
    env = {"SLACK_BOT_TOKEN": "xoxb-faults", "SLACK_API_URL": slack + "/api", "NOTIFIER_GROUP_WINDOW_MS": 200,
           "NOTIFIER_CHANNEL_INTERVAL_MS": 50}
    port_a, port_b = harness.free_port(), harness.free_port()
    a = mesh.start_service("notifier-a", "notifier", port_a, **env)
    mesh.wait_ready(a, port_a)

    now = lambda: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    episode = "pump-7/r1"

    def anomaly(n, severity="warning"):
        return {"schema": 1, "kind": "reading", "id": f"r{n}", "ts": now(), "device_id": "pump-7",
                "temperature": 24.0, "pressure": 1005.0, "vibration": 0.05, "score": 0.8, "anomaly": True,
                "severity": severity, "model": "device_baseline@1", "scored_at": now(),
                "episode": {"id": episode, "state": "opened" if n == 1 else "continues"},
                "explanation": {"detector": "spike", "channels": [
                    {"channel": "vibration", "value": 0.05, "expected": 0.02, "spread": 0.002, "sigmas": 15.0,
                     "detector": "spike"}]}}

    def send(events):
        lines = "".join(f"pump-7\t{json.dumps(e)}\n" for e in events)
        subprocess.run(["kcat", "-b", mesh.brokers, "-P", "-t", "anomalies", "-K", "\t"], input=lines.encode(),
                       check=True, timeout=60)

    def requests():
        with urllib.request.urlopen(slack + "/_standin/requests", timeout=5) as answer:
            return [r for r in json.load(answer)["requests"] if r["status"] == 200 and "error" not in r]

    send([anomaly(n) for n in range(1, 4)])
    assert wait_until(lambda: len(requests()) == 1, 30), f"the first message: {requests()}"
    original = requests()[0]
    # Its record is written before its offsets are stored; the consumer commits those every second.
    time.sleep(3)
    a.kill()
    figure(f"notifier-a killed (SIGKILL) after posting the incident's message (ts {original['ts']})")

    b = mesh.start_service("notifier-b", "notifier", port_b, **env)
    mesh.wait_ready(b, port_b)
    send([anomaly(n, "critical") for n in range(4, 6)])
    send([{"schema": 1, "kind": "episode_closed", "id": episode + "/closed", "ts": now(), "device_id": "pump-7",
           "episode_id": episode, "scored_at": now()}])
    assert wait_until(lambda: any(r.get("thread_ts") == original["ts"] and "Resolved" in r["body"].get("text", "")
                                  for r in requests()), 60), f"the resolution: {requests()}\n{b.log_tail()}"
    time.sleep(1)
    seen = requests()
    posts = [r for r in seen if r["method"] == "chat.postMessage" and not r.get("thread_ts")]
    updates = [r for r in seen if r["method"] == "chat.update"]
    assert len(posts) == 1, f"one message for the incident, {len(posts)} posted"
    assert updates and all(u["ts"] == original["ts"] and u["channel_id"] == original["channel_id"] for u in updates)
    last = updates[-1]["body"]
    assert last["metadata"]["event_payload"]["alerts"] == 5, last["metadata"]
    assert last["metadata"]["event_payload"]["state"] == "resolved"
    restored = metric_sum(port_b, "alertron_notifier_incidents_restored_total")
    figure(f"notifier-b restored {restored} incident(s); {len(updates)} update(s) of the original message, "
           f"0 second posts, resolution replied in its thread")
    assert restored >= 1


def test_not_an_anomaly_from_slack_retunes_the_scorer(mesh):
    """The whole loop on the real binaries: a device's fault reaches Slack (the stand-in) as an
    incident with buttons; 'Not an anomaly' is clicked, signed as Slack signs; the notifier writes
    the verdict to feedback and the scorer reads it. The same fault replayed no longer alerts,
    while a fault of another channel on the same device does."""
    mesh.start_broker()
    secret = "e2e-signing-secret"
    slack_port, scorer_port, notifier_port = harness.free_port(), harness.free_port(), harness.free_port()
    slack = f"http://127.0.0.1:{slack_port}"
    standin = mesh.start("slack-standin", [
        binary("alertron-slack-standin"), "--listen", f"127.0.0.1:{slack_port}", "--token", "xoxb-loop",
        "--signing-secret", secret, "--interactions-url", f"http://127.0.0.1:{notifier_port}/slack/interactions"])
    assert wait_until(lambda: http_status(slack + "/healthz") == 200, 20), standin.log_tail()
    scorer = mesh.start_service("scorer", "scorer", scorer_port, SCORER_WARM_UP=60)
    notifier = mesh.start_service("notifier", "notifier", notifier_port, SLACK_BOT_TOKEN="xoxb-loop",
                                  SLACK_API_URL=slack + "/api", SLACK_SIGNING_SECRET=secret,
                                  NOTIFIER_GROUP_WINDOW_MS=200, NOTIFIER_CHANNEL_INTERVAL_MS=50)
    mesh.wait_ready(scorer, scorer_port)
    mesh.wait_ready(notifier, notifier_port)

    noise = random.Random(5)
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    minute = {"n": 0}

    def readings(count, temperature_sigmas=0.0, pressure_sigmas=0.0):
        """pump-9's next readings, a minute apart; a channel off by that many of its spreads."""
        events = []
        for _ in range(count):
            minute["n"] += 1
            ts = (start + datetime.timedelta(minutes=minute["n"])).strftime("%Y-%m-%dT%H:%M:%SZ")
            events.append({"schema": 1, "kind": "reading", "id": f"p9-r{minute['n']}", "ts": ts, "device_id": "pump-9",
                           "temperature": round(24 + 0.5 * (noise.gauss(0, 1) + temperature_sigmas), 2),
                           "pressure": round(1005 + 3 * (noise.gauss(0, 1) + pressure_sigmas), 2),
                           "vibration": round(0.02 + 0.002 * noise.gauss(0, 1), 4)})
        return events

    def messages():
        with urllib.request.urlopen(slack + "/_standin/requests", timeout=5) as answer:
            return [r for r in json.load(answer)["requests"] if r["status"] == 200 and "error" not in r]

    def incidents():
        keys = []
        for r in messages():
            key = ((r["body"].get("metadata") or {}).get("event_payload") or {}).get("incident", "")
            if key.startswith("device:pump-9/") and key not in keys:
                keys.append(key)
        return keys

    fault = readings(20, temperature_sigmas=8)
    produce(mesh, readings(100) + fault)
    assert wait_until(lambda: scored_so_far(scorer_port) >= 120, 60), f"scored {scored_so_far(scorer_port)} of 120"
    # The fault's episode (the fleet model's flags while the device learned may have opened it earlier).
    flagged_fault = [json.loads(v) for _, _, v in mesh.read_topic("anomalies")
                     if json.loads(v).get("id") in {e["id"] for e in fault}]
    assert len(flagged_fault) >= 18, f"the fault must alert the first time: {len(flagged_fault)} of 20 flagged"
    incident = "device:" + flagged_fault[-1]["episode"]["id"]
    assert wait_until(lambda: incident in incidents(), 30), f"{incident} in Slack: {incidents()}"
    known = len(incidents())
    click = subprocess.run([binary("alertron-slack-standin"), "click", "--standin", slack, "--action", "not_anomaly",
                            "--incident", incident], capture_output=True, text=True, timeout=30)
    assert click.returncode == 0 and '"status":200' in click.stdout, f"the click: {click.stdout} {click.stderr}"
    assert wait_until(lambda: metric_sum(scorer_port, "alertron_scorer_feedback_total", {"outcome": "applied"}) == 1,
                      30), f"the scorer applied the verdict; its log:\n{scorer.log_tail()}"
    figure(f"'Not an anomaly' clicked on {incident}: the scorer applied it")

    replay = readings(15) + readings(20, temperature_sigmas=8)
    other = readings(15) + readings(20, pressure_sigmas=8)
    tail = readings(15)
    produce(mesh, replay + other + tail)
    sent = 100 + len(fault) + len(replay) + len(other) + len(tail)
    assert wait_until(lambda: scored_so_far(scorer_port) >= sent, 60), f"scored {scored_so_far(scorer_port)} of {sent}"
    flagged = {json.loads(v)["id"] for _, _, v in mesh.read_topic("anomalies") if json.loads(v).get("kind") == "reading"}
    replay_flagged = flagged & {e["id"] for e in replay}
    other_flagged = flagged & {e["id"] for e in other[15:]}
    figure(f"the same fault replayed: {len(replay_flagged)} of 20 readings flagged; a pressure fault after it: "
           f"{len(other_flagged)} of 20 flagged")
    assert not replay_flagged, f"the dismissed fault alerted again: {sorted(replay_flagged)[:5]}"
    assert len(other_flagged) >= 18, "a fault of another channel must still alert"
    assert wait_until(lambda: len(incidents()) > known, 30), "the pressure fault is a new incident in Slack"


def test_replicas(mesh, scorer_settings):
    """Two scorer replicas; one is SIGKILLed (it hands nothing over, commits nothing, leaves no
    group: its partitions come back when its session times out). The other takes them over and
    the stream completes without a restart."""
    count, rate = int(os.environ.get("REPLICAS_COUNT", 60000)), int(os.environ.get("REPLICAS_RATE", 3000))
    run, port_a, port_b = f"replicas{os.getpid()}", harness.free_port(), harness.free_port()
    mesh.start_broker()
    a = mesh.start_service("scorer-a", "scorer", port_a)
    b = mesh.start_service("scorer-b", "scorer", port_b)
    mesh.wait_ready(a, port_a)
    mesh.wait_ready(b, port_b)

    def shares():
        owned_a, owned_b = harness.partitions(a.log_path)[0], harness.partitions(b.log_path)[0]
        return owned_a, owned_b, bool(owned_a) and bool(owned_b) and len(owned_a) + len(owned_b) == 6

    assert wait_until(lambda: shares()[2], 60, interval=0.2), "the two replicas share the 6 partitions of readings"
    owned_a, owned_b, _ = shares()
    figure(f"before the kill: scorer-a owns partitions {sorted(owned_a)}, scorer-b owns {sorted(owned_b)}")
    generator = mesh.start("generator", [binary("generator"), "generate", "--target", "kafka", "--count", str(count),
                                         "--rate", str(rate), "--seed", "2", "--run-id", run],
                           mesh.service_env(harness.free_port()))
    wait_until(lambda: scored_so_far(port_a, port_b) >= count // 3, 60)
    figure(f"scorer-b killed (SIGKILL) after scorer-a scored {scored_so_far(port_a)} and scorer-b "
           f"{scored_so_far(port_b)} of {count} (stream at {rate}/s)")
    kill_time = time.time()
    b.kill()
    killed_at = time.monotonic()
    assert generator.alive(), "the generator was still sending when scorer-b was killed"
    generator_status = generator.wait(180)
    scored = mesh.ids("scored", harness.run_ids(run, count), wait=180)
    after, taken, first_after = harness.partitions(a.log_path, since=kill_time)
    bound = duplicate_bound(scorer_settings)
    figure(f"after the kill: scorer-a owns partitions {sorted(after)}; it was assigned {sorted(taken)} "
           f"{'-' if first_after is None else f'{first_after:.1f}'} s after the kill")
    figure(f"scored topic: {scored.unique} unique of {count}, {scored.duplicates} duplicates; "
           f"stream complete {time.monotonic() - killed_at:.0f} s after the kill")
    figure(f"duplicates {scored.duplicates}; bound batch size x batches in flight = {bound}")
    assert generator_status == 0, "the generator exits 0: every reading acknowledged"
    assert owned_b <= taken and len(after) == 6, "scorer-a took over scorer-b's partitions and owns all 6"
    assert scored.missing == 0, f"the stream completed; missing e.g. {scored.missing_sample}"
    assert scored.duplicates <= bound
    assert http_status(f"http://127.0.0.1:{port_a}/readyz") == 200, "scorer-a still ready"


def test_fuzz(mesh):
    """HTTP fuzzing of ingest and the notifier's webhook: no crash, only 4xx (or 2xx for valid
    input), and both still serve valid requests afterwards."""
    seed, token, run = int(os.environ.get("FUZZ_SEED", 1)), f"fuzz-token-{os.getpid()}", f"fuzz{os.getpid()}"
    ingest_port, notifier_port, scorer_port = harness.free_port(), harness.free_port(), harness.free_port()
    mesh.start_broker()
    scorer = mesh.start_service("scorer", "scorer", scorer_port)
    ingest = mesh.start_service("ingest", "ingest", ingest_port)
    notifier = mesh.start_service("notifier", "notifier", notifier_port, NOTIFIER_WEBHOOK_TOKEN=token,
                                  SLACK_SINK_FILE=os.path.join(mesh.directory, "slack-messages.jsonl"))
    for process, port in ((scorer, scorer_port), (ingest, ingest_port), (notifier, notifier_port)):
        mesh.wait_ready(process, port)
    figure(f"seed {seed} (FUZZ_SEED={seed} repeats this run)")
    status = http_fuzz.main(["--ingest", f"http://127.0.0.1:{ingest_port}", "--notifier", f"http://127.0.0.1:{notifier_port}",
                             "--token", token, "--requests", os.environ.get("FUZZ_REQUESTS", "4000"), "--seed", str(seed),
                             "--failures", os.path.join(mesh.directory, "failures.jsonl")])
    for process in (ingest, notifier):
        if not process.alive():
            figure(f"{process.name} DIED during the fuzzing: {process.crash_reason()}")
    assert status & 1 == 0, "only 4xx (or 2xx for valid input): no 5xx, no reset, no timeout"
    assert status & 2 == 0, "every hand-picked edge case got its answer class"
    assert http_status(f"http://127.0.0.1:{ingest_port}/healthz") == 200, "ingest alive"
    assert http_status(f"http://127.0.0.1:{notifier_port}/healthz") == 200, "notifier alive"

    reading = ('{"id":"%s-0","device_id":"edge-1","temperature":21.5,"pressure":1013,"vibration":0.02}' % run).encode()
    webhook = b'{"version":"4","groupKey":"fuzz-after","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"FuzzCheck"}}]}'
    assert post(f"http://127.0.0.1:{ingest_port}/v1/readings", reading) == 202, "ingest still accepts a valid reading"
    assert post(f"http://127.0.0.1:{notifier_port}/v1/alertmanager", webhook, token) == 200, "the webhook still accepts"
    assert mesh.ids("scored", harness.run_ids(run, 1), wait=60).missing == 0, "the valid reading sent afterwards is scored"

    # Once the scorer has gone through all of readings (scored + dead-lettered = produced):
    # nothing ingest accepted while fuzzed was dead-lettered by the scorer.
    counts = {}

    def caught_up():
        counts.update({topic: len(mesh.read_topic(topic)) for topic in ("readings", "scored", "readings.dlq")})
        return counts["scored"] + counts["readings.dlq"] >= counts["readings"]

    wait_until(caught_up, 60, interval=1)
    figure(f"ingest accepted {counts['readings']} events while fuzzed; the scorer scored {counts['scored']} "
           f"and dead-lettered {counts['readings.dlq']}")
    assert counts["readings.dlq"] == 0, "no event ingest accepted was dead-lettered by the scorer"


def post(url, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
