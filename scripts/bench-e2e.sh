#!/usr/bin/env bash
# End-to-end latency: from ingest accepting an anomalous reading (its 202) to the Slack
# stand-in receiving the message about it, with the mesh started as `make run` starts it and
# 10k background readings/s flowing through ingest. Grouping and pacing are deliberate delays,
# so they are switched off here (NOTIFIER_GROUP_WINDOW_MS=0, NOTIFIER_CHANNEL_INTERVAL_MS=0):
# what is measured is the pipeline (ingest, Kafka, scorer, Kafka, notifier, Slack).
# Probes are single readings from devices of their own, far out of range (critical), routed to
# a channel of their own; the baseline is the same probe's ingest round trip alone.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
work="$(mktemp -d)"
export CONFIG="${CONFIG:-release}" RUN_DIR="$work/run" STATUS_INTERVAL=5 LOCAL_GENERATOR=off
export_free_mesh_ports
export NOTIFIER_GROUP_WINDOW_MS=0 NOTIFIER_CHANNEL_INTERVAL_MS=0 NOTIFIER_CHANNEL_ROUTES='critical=#probes'
rate="${RATE:-10000}" probes="${PROBES:-300}"
services_bin="$root/.build-services/$CONFIG"
shared_bin="$root/shared/.build/$CONFIG"

slack_port=$(free_port)
setsid "$shared_bin/alertron-slack-standin" --listen "127.0.0.1:$slack_port" >"$work/slack.out" 2>&1 &
slack_pid=$!
export SLACK_BOT_TOKEN=xoxb-bench SLACK_API_URL="http://127.0.0.1:$slack_port/api" SLACK_CHANNEL='#alerts'
start_mesh "$work/output"
background=""
cleanup() {
  [ -n "$background" ] && kill -TERM "$background" 2>/dev/null
  stop_mesh "$slack_pid"
  rm -rf "$work"
}
trap cleanup EXIT
wait_mesh_ready "$work/output" || { echo "bench-e2e: the mesh did not come up"; cat "$work/output"; exit 1; }

# Background: normal readings through ingest at the target rate, for as long as the probes run.
PORT=0 "$services_bin/generator" --target http --ingest-url "http://127.0.0.1:$INGEST_PORT" --mode readings \
  --rate "$rate" --anomaly-rate 0 --run-id bench-bg >"$work/generator.out" 2>"$work/generator.log" &
background=$!
sleep 5

python3 - "$INGEST_PORT" "$slack_port" "$probes" "$rate" "$BROKER_PORT" <<'PY'
import json, sys, time, urllib.request, subprocess, datetime
ingest, slack, probes, rate, broker = (int(a) for a in sys.argv[1:6])
def post(body):
    request = urllib.request.Request(f"http://127.0.0.1:{ingest}/v1/readings", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    start = time.time()
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202, response.status
    return start, time.time()
def produced():
    text = urllib.request.urlopen(f"http://127.0.0.1:{ingest}/metrics").read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith('alertron_ingest_events_produced_total{kind="reading"}'))
background_start, clock_start = produced(), time.time()
accepted, round_trips = {}, []
for n in range(probes):
    device = f"probe-{n}"
    reading = {"kind": "reading", "device_id": device, "temperature": 900.0, "pressure": 5.0, "vibration": 40.0}
    start, end = post(json.dumps(reading))
    accepted[device] = end * 1000
    round_trips.append((end - start) * 1000)
    time.sleep(0.05)
background_rate = (produced() - background_start) / (time.time() - clock_start)
deadline = time.time() + 30
arrived = {}
while time.time() < deadline and len(arrived) < probes:
    time.sleep(0.5)
    listing = json.load(urllib.request.urlopen(f"http://127.0.0.1:{slack}/_standin/requests"))["requests"]
    for r in listing:
        if r["status"] != 200 or r.get("channel") != "#probes":
            continue
        for subject in ((r["body"].get("metadata") or {}).get("event_payload") or {}).get("subjects", []):
            if subject in accepted and subject not in arrived:
                arrived[subject] = r["received_ms"]
latencies = sorted(arrived[d] - accepted[d] for d in arrived)
def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
print(f"bench-e2e: {probes} probes at 20/s while ingest took {background_rate:.0f} background readings/s (asked: {rate}); "
      f"{len(latencies)} reached Slack")
if latencies:
    print(f"bench-e2e: ingest 202 -> Slack stand-in: p50 {pct(latencies, 50):.1f} ms, p90 {pct(latencies, 90):.1f} ms, "
          f"p99 {pct(latencies, 99):.1f} ms, max {latencies[-1]:.1f} ms")
# Where the time goes: the scorer stamps scored_at, so the anomalies topic splits the path.
def epoch_ms(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
scored = {}
lines = subprocess.run(["kcat", "-b", f"127.0.0.1:{broker}", "-C", "-t", "anomalies", "-o", "beginning", "-e", "-q", "-f", "%s\\n"],
                       capture_output=True, text=True).stdout.splitlines()
for line in lines:
    event = json.loads(line)
    if event.get("device_id") in accepted:
        scored[event["device_id"]] = epoch_ms(event["scored_at"])
to_scorer = sorted(scored[d] - accepted[d] for d in scored)
to_slack = sorted(arrived[d] - scored[d] for d in scored if d in arrived)
if to_scorer and to_slack:
    print(f"bench-e2e: of which ingest 202 -> scored_at p50 {pct(to_scorer, 50):.1f} ms, p99 {pct(to_scorer, 99):.1f} ms; "
          f"scored_at -> Slack p50 {pct(to_slack, 50):.1f} ms, p99 {pct(to_slack, 99):.1f} ms")
round_trips.sort()
print(f"bench-e2e: baseline, the probe's own ingest round trip: p50 {pct(round_trips, 50):.1f} ms, p99 {pct(round_trips, 99):.1f} ms; "
      f"ratio of p50s {pct(latencies, 50) / pct(round_trips, 50):.1f}x" if latencies else "")
sys.exit(0 if len(latencies) == probes else 1)
PY
exit $?
