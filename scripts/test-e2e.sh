#!/usr/bin/env bash
# The whole mesh end to end, started as `make run` starts it (debug build, free ports), with
# the Slack stand-in as Slack and short alerting intervals. A known stream goes in through
# ingest; the test asserts what comes out:
#   1. every reading's id is on `scored` (duplicates allowed, losses not);
#   2. anomaly bursts become grouped Slack messages naming their devices, and every anomaly
#      on `anomalies` is counted in a delivered message;
#   3. HighAnomalyRate fires through the real Prometheus -> Alertmanager -> notifier -> Slack,
#      and its resolve follows once the stream calms;
#   4. critical log lines reach Slack, routine ones do not;
#   5. devices of a profile without a model (named channels) are scored by their own baselines.
# Alerting runs on the repo's rules with time compressed: windows of 5m become 20s and every
# `for:` becomes 5s, so the same expressions fire and resolve within the test.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
say() { echo "e2e: $*"; }

work="$(mktemp -d)"
run_dir="$work/run"
mkdir -p "$run_dir"
export CONFIG="${CONFIG:-debug}" RUN_DIR="$run_dir" STATUS_INTERVAL=2 LOCAL_GENERATOR=off
export_free_mesh_ports
export PROMETHEUS_INTERVAL=1s ALERTMANAGER_GROUP_WAIT=1s ALERTMANAGER_GROUP_INTERVAL=2s
export NOTIFIER_GROUP_WINDOW_MS=2000 NOTIFIER_CHANNEL_INTERVAL_MS=200
services_bin="$root/.build-services/$CONFIG"
shared_bin="$root/shared/.build/$CONFIG"

# The rules with time compressed.
rules="$work/rules"
mkdir -p "$rules"
for file in "$root"/deploy/prometheus/rules/*.yml; do
  sed -E -e 's/\[5m\]/[20s]/g' -e 's/^( +)for: .*/\1for: 5s/' "$file" >"$rules/$(basename "$file")"
done
export PROMETHEUS_RULES_DIR="$rules"

# Slack: the stand-in, in bot mode (threads and updates).
slack_port=$(free_port)
setsid "$shared_bin/alertron-slack-standin" --listen "127.0.0.1:$slack_port" --token xoxb-e2e >"$work/slack.out" 2>&1 &
slack_pid=$!
export SLACK_BOT_TOKEN=xoxb-e2e SLACK_API_URL="http://127.0.0.1:$slack_port/api" SLACK_CHANNEL='#alerts'

start_mesh "$work/output"
cleanup() { stop_mesh "$slack_pid"; }
trap cleanup EXIT
if ! wait_mesh_ready "$work/output"; then
  echo "e2e: the mesh did not come up"; cat "$work/output"; tail -n 20 "$run_dir"/*.log; exit 1
fi
say "mesh ready; sending the stream through ingest"

generate() {  # run id, then generator flags: one phase of the stream, through ingest
  local id="$1"; shift
  PORT=0 "$services_bin/generator" --target http --ingest-url "http://127.0.0.1:$INGEST_PORT" --run-id "$id" "$@" \
    >"$work/generator-$id.out" 2>"$work/generator-$id.log"
}

# Log lines the default model was trained on, without a level (the replay gives none):
# 10 critical, 40 routine, interleaved, in Loghub's labeled format.
python3 - "$root/services/scorer/data/log-corpus.jsonl" "$work/e2e-app.log" <<'PY'
import json, sys
critical, routine = [], []
for line in open(sys.argv[1]):
    entry = json.loads(line)
    if "level" in entry:
        continue
    (critical if entry["label"] == "critical" else routine).append(entry["message"])
with open(sys.argv[2], "w") as out:
    for index in range(50):
        if index % 5 == 0:
            out.write("CRIT " + critical[index // 5] + "\n")
        else:
            out.write("- " + routine[index - index // 5 - 1] + "\n")
PY

# 1. The log lines, first and alone: the burst starts only once their message is in Slack, so
#    it quotes them (folded into a fleet digest with the burst they would only be counted).
check generate e2e-logs --replay "$work/e2e-app.log" --replay-format loghub --replay-source e2e-app --rate 100
slack_requests() { curl -fs "http://127.0.0.1:$slack_port/_standin/requests"; }
logs_delivered() { slack_requests | grep -q '"logs":[1-9]'; }
for _ in $(seq 150); do logs_delivered && break; sleep 0.2; done
check logs_delivered
# 2. A burst: 40% of readings anomalous across the fleet, for about 12 s. Its 72 readings a
#    device are all warm-up, judged by the fleet model (range rule, critical band), which sees
#    spikes and correlated faults but not shifts or stuck sensors: the burst is made of those.
check generate e2e-burst --mode readings --count 3600 --rate 300 --anomaly-rate 0.4 \
  --anomaly-kinds spike,correlated --seed 11
# 3. Calm: no injected anomalies, long enough for the 20 s windows to empty.
generate e2e-calm --mode readings --count 9000 --rate 300 --anomaly-rate 0 --seed 12 &
calm=$!
say "log lines and burst sent; calm stream running"

# HighAnomalyRate: fired, delivered, then resolved (the original updated, a reply in its thread).
resolved() {
  slack_requests | python3 -c '
import json, sys
requests = [r for r in json.load(sys.stdin)["requests"] if r["status"] == 200 and "error" not in r]
firing = [r for r in requests if r["method"] == "chat.postMessage" and "HighAnomalyRate" in r["body"].get("text", "")
          and r["body"]["text"].startswith("[FIRING")]
updates = [r for r in requests if r["method"] == "chat.update" and "HighAnomalyRate" in r["body"].get("text", "")
           and r["body"]["text"].startswith("[RESOLVED")]
ok = any(u["ts"] == f["ts"] for f in firing for u in updates) and any(
    r.get("thread_ts") == f["ts"] for f in firing for r in requests if r["method"] == "chat.postMessage")
sys.exit(0 if ok else 1)'
}
wait "$calm"; check test $? -eq 0
# 4. Devices of another type, for which no model exists: readings with a profile and named channels.
check generate e2e-pump --mode readings --count 600 --rate 300 --anomaly-rate 0 --seed 13 --devices 5 --profile pump
for _ in $(seq 60); do resolved && break; sleep 2; done
check resolved

# Offsets settle: the notifier has nothing pending, the scorer nothing behind.
sleep 4
kcat -b "127.0.0.1:$BROKER_PORT" -C -t scored -o beginning -e -q -f '%s\n' >"$work/scored.jsonl" 2>/dev/null
kcat -b "127.0.0.1:$BROKER_PORT" -C -t anomalies -o beginning -e -q -f '%s\n' >"$work/anomalies.jsonl" 2>/dev/null
slack_requests >"$work/slack.json"

check python3 - "$work" <<'PY'
import json, sys, collections
work = sys.argv[1]
failures = []
def expect(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)

scored = [json.loads(line) for line in open(f"{work}/scored.jsonl") if line.strip()]
anomalies = [json.loads(line) for line in open(f"{work}/anomalies.jsonl") if line.strip()]
requests = json.load(open(f"{work}/slack.json"))["requests"]
delivered = [r for r in requests if r["status"] == 200 and "error" not in r]

# 1. Every reading on scored (ids are <run-id>-<sequence>).
ids = collections.Counter(event["id"] for event in scored)
for run, count in (("e2e-burst", 3600), ("e2e-calm", 9000)):
    sent = {f"{run}-{n}" for n in range(count)}
    missing = sent - ids.keys()
    repeats = sum(ids[i] - 1 for i in sent if ids[i] > 1)
    expect(not missing, f"{run}: {count - len(missing)} of {count} readings on scored ({len(missing)} lost, {repeats} repeated)")

# 2. Anomaly bursts as grouped messages naming devices; every anomaly counted once.
def payload(r):
    return (r["body"].get("metadata") or {}).get("event_payload") or {}
reading_anomalies = [a for a in anomalies if a["kind"] == "reading"]
anomaly_ids = {a["id"] for a in reading_anomalies}
# Each incident has one message, updated as it grows: its latest state counts all its alerts.
latest = {}
for r in delivered:
    if r["method"] in ("chat.postMessage", "chat.update") and not r.get("thread_ts") and r.get("ts"):
        latest[(r.get("channel_id"), r["ts"])] = r
messages = [r for r in latest.values() if payload(r).get("source") == "anomalies"]
posts = [r for r in delivered if r["method"] == "chat.postMessage" and not r.get("thread_ts")]
expect(len(posts) == len(latest), f"one message per incident: {len(posts)} posts, {len(latest)} messages")
with_readings = [r for r in messages if payload(r).get("readings", 0) > 0]
counted = sum(payload(r).get("readings", 0) for r in messages)
expect(len(anomaly_ids) > 100, f"the burst made {len(anomaly_ids)} reading anomalies")
expect(counted == len(anomaly_ids),
       f"{counted} reading anomalies counted in {len(with_readings)} Slack messages, {len(anomaly_ids)} on the anomalies topic")
expect(len(with_readings) < len(anomaly_ids) / 5, f"grouped: {len(with_readings)} messages for {len(anomaly_ids)} anomalies")
named = [r for r in with_readings if any(s.startswith("edge-") and s in json.dumps(r["body"]["blocks"]) for s in payload(r)["subjects"])]
expect(with_readings and len(named) == len(with_readings), f"{len(named)} of {len(with_readings)} anomaly messages name their devices")

# 3. HighAnomalyRate: firing, then the original updated to resolved with a thread reply.
firing = [r for r in delivered if r["method"] == "chat.postMessage" and r["body"].get("text", "").startswith("[FIRING")
          and "HighAnomalyRate" in r["body"]["text"]]
expect(bool(firing), f"HighAnomalyRate fired into Slack ({len(firing)} message(s))")

# 4. Critical log lines reach Slack, routine ones do not.
lines = [l.rstrip("\n").split(" ", 1) for l in open(f"{work}/e2e-app.log")]
critical = [text for label, text in lines if label != "-"]
routine = [text for label, text in lines if label == "-"]
log_alerts = sum(payload(r).get("logs", 0) for r in messages)
expect(log_alerts == len(critical), f"{log_alerts} critical log lines in Slack, {len(critical)} sent")
bodies = json.dumps([r["body"] for r in delivered])
leaked = [text for text in routine if json.dumps(text)[1:-1] in bodies]
expect(not leaked, f"no routine line in any Slack message ({len(leaked)} found)")
quoted = sum(json.dumps(text)[1:-1] in bodies for text in critical)
expect(quoted >= 1, f"critical lines quoted in Slack: {quoted}")
# 5. A profile without a model: every reading scored, by its device's own baseline, its channels kept.
pump = {e["id"]: e for e in scored if e["id"].startswith("e2e-pump-")}
expect(len(pump) == 600, f"e2e-pump: {len(pump)} of 600 readings of profile pump on scored")
expect(all(e.get("profile") == "pump" and set(e.get("values", {})) == {"temperature", "pressure", "vibration"}
           and e["model"] == "device_baseline@1" and not e["anomaly"] for e in pump.values()),
       "profile pump (no model): named channels kept, judged by device_baseline@1, nothing flagged while learning")
print(f"slack: {len(delivered)} requests delivered, {len(requests) - len(delivered)} refused")
sys.exit(1 if failures else 0)
PY

cleanup
trap - EXIT
check test ! -e "/proc/$mesh_pid"
[ "$failed" -eq 0 ] || { echo "--- run-local output"; tail -n 30 "$work/output"; tail -n 15 "$run_dir"/notifier.log "$run_dir"/alertmanager.log; }
rm -rf "$work"
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
