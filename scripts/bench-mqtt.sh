#!/usr/bin/env bash
# Readings over MQTT into Kafka through ingest, next to the broker alone: Debian's mosquitto,
# mosquitto_pub publishing the same readings at QoS 1 (one message per line of a file), and as
# the baseline in the same run mosquitto_sub taking them at QoS 1 from the same broker. Ingest
# counts a message once Kafka (the development broker) has acknowledged its reading, and only
# then acknowledges it to mosquitto. Release build. Figures go in BENCHMARKS.md.
# Usage: scripts/bench-mqtt.sh (after make build); COUNT=30000 and RUNS=3 by default.
# COUNT stays under ~34,000: beyond that, Debian's mosquitto 2.0.11 disconnects mosquitto_pub -l
# ("out of memory" in its log) and mosquitto_pub still exits 0, having lost the rest.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
count="${COUNT:-30000}"
runs="${RUNS:-3}"
for tool in mosquitto_pub mosquitto_sub /usr/sbin/mosquitto; do
  command -v "$tool" >/dev/null || { echo "bench-mqtt: $tool is missing (make deps installs it)" >&2; exit 1; }
done
bench_workspace
# The broker as make run configures it (deploy/mosquitto/mosquitto.conf, made local).
mqtt_port=$(free_port)
local_mosquitto_conf "$mqtt_port" >"$work/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >/dev/null 2>"$work/mosquitto.log" &
pids+=($!)
start_bench_ingest MQTT_URL="mqtt://127.0.0.1:$mqtt_port" MQTT_TOPICS="devices/+/readings"

# The readings: plain channel objects, as a device publishes them (the device is the topic's).
awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "{\"temperature\":%d.5,\"pressure\":1013.2,\"vibration\":0.021}\n", 18 + i % 8 }' \
  >"$work/readings"
publish() { # topic: every line of the file as one QoS 1 message, 1000 awaiting acknowledgement at most
  mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -q 1 -M 1000 -t "$1" -l <"$work/readings"
}
now() { date +%s.%N; }
produced() {
  curl -fs "http://127.0.0.1:$ingest_port/metrics" \
    | awk '/^alertron_ingest_mqtt_messages_total\{.*outcome="produced"/ { n += $NF } END { printf "%d", n }'
}

echo "bench-mqtt: $count readings per run, $runs runs; mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p' | head -1)"
for run in $(seq "$runs"); do
  # Baseline: the broker alone, mosquitto_pub -> mosquitto_sub at QoS 1.
  timeout 120 mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -q 1 -t "bench/$run" -C "$count" >/dev/null &
  sub=$!
  sleep 0.5
  start=$(now)
  publish "bench/$run"
  wait "$sub" || { echo "bench-mqtt: mosquitto_sub did not get all $count messages" >&2; exit 1; }
  baseline=$(echo "$count / ($(now) - $start)" | bc -l)

  # Ingest: the same messages, counted once Kafka has them.
  before=$(produced)
  start=$(now)
  publish "devices/pump-$run/readings"
  deadline=$(( $(date +%s) + 120 ))
  while [ $(( $(produced) - before )) -lt "$count" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench-mqtt: ingest did not produce all $count readings" >&2; exit 1; }
    sleep 0.02
  done
  through=$(echo "$count / ($(now) - $start)" | bc -l)
  printf 'run %d: mosquitto_pub -> mosquitto_sub %8.0f msgs/s | mosquitto_pub -> ingest -> Kafka %8.0f readings/s (%.2fx)\n' \
    "$run" "$baseline" "$through" "$(echo "$through / $baseline" | bc -l)"
done
