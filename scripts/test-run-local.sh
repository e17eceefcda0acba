#!/usr/bin/env bash
# Checks what `make run` promises, on the debug build that `make test` made: the broker and
# every service come up ready, and Ctrl-C (SIGINT) leaves no process behind.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"

run_dir="$(mktemp -d)"
output="$run_dir/output"
export CONFIG=debug RUN_DIR="$run_dir" STATUS_INTERVAL=1 STATUS_LOG_INTERVAL=3
export_free_mesh_ports
export NOTIFIER_GROUP_WINDOW_MS=1000 PROMETHEUS_INTERVAL=1s

start_mesh "$output"
runner=$mesh_pid
# Whatever happens below, nothing this test started outlives it: the runner leads its own
# process group (setsid), and every process it starts belongs to that group.
trap 'kill -KILL -- "-$runner" 2>/dev/null' EXIT
check wait_mesh_ready "$output"
ready_at=$(date +%s)
check grep -q "status: scorer=ready notifier=ready ingest=ready generator=ready" <(sleep 1.5; cat "$output")
check kcat -b "127.0.0.1:$BROKER_PORT" -L -t readings -m 5
# The generator's fleet publishes over MQTT by default, and ingest takes it from the broker.
mqtt_flows() {
  for _ in $(seq 100); do
    [ "$(curl -fs "http://127.0.0.1:$INGEST_PORT/metrics" | awk '/^alertron_ingest_mqtt_messages_total\{.*outcome="produced"/ { n += $NF } END { printf "%d", n }')" -gt 0 ] \
      && return 0
    sleep 0.2
  done
  return 1
}
check mqtt_flows
# The generator's anomalies reach the notifier's local sink as Slack messages (a short
# grouping window here, so the first one comes within seconds).
sink_has_message() {
  for _ in $(seq 150); do
    grep -q '"method":"chat.postMessage"' "$run_dir/slack-messages.jsonl" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
check sink_has_message
# The real Prometheus scrapes every service with the repo's configuration: after a few
# scrapes every rule and dashboard expression must evaluate, and every per-service panel
# must have data.
check curl -fs -o /dev/null "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready"
sleep 8
check "$root/scripts/check-live-queries.sh" --strict-metrics --rate-interval 30s "http://127.0.0.1:$PROMETHEUS_PORT"
check grep -Eq 'readings/s, [0-9]+ anomalies, [0-9]+ slack messages, [0-9]+ alerts firing' "$output"
# Into a file the status comes as a line every STATUS_LOG_INTERVAL (3 s here), although the
# services are polled every second: no more lines than that cadence allows.
status_cadence_kept() {
  local lines elapsed
  lines=$(grep -c '^status:' "$output")
  elapsed=$(( $(date +%s) - ready_at ))
  [ "$lines" -ge 2 ] && [ "$lines" -le $(( (elapsed + 2) / 3 + 1 )) ]
}
check status_cadence_kept

kill -INT "$runner"
for _ in $(seq 150); do kill -0 "$runner" 2>/dev/null || break; sleep 0.1; done
check test ! -e "/proc/$runner"
# Every process let go of its port: nothing was left behind.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$BROKER_PORT" "$DEVBROKER_CONTROL_PORT" "$INGEST_PORT" "$SCORER_PORT" "$NOTIFIER_PORT" "$GENERATOR_PORT" \
  "$PROMETHEUS_PORT" "$ALERTMANAGER_PORT" "$MQTT_PORT"; do
  check port_free "$port"
done
check grep -q "stopped" "$output"
[ "$failed" -eq 0 ] || { echo "--- run-local output"; cat "$output"; tail -n 20 "$run_dir"/*.log; }
rm -rf "$run_dir"
echo "run-local: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
