#!/usr/bin/env bash
# Sensor detection on the generator's labelled fleet, through the path the service really runs:
# a development broker, `scorer serve` with the default models, `generator generate` to Kafka
# (one run per seed, as fast as the scorer takes them), then `generator evaluate` on what the
# scorer wrote to `scored`. Prints the evaluation report (episodes and per-reading figures).
# make evaluate-detection; COUNT, SEEDS, ANOMALY_RATE, CONFIG and SCORER_ARGS change what is
# measured. ANOMALY_RATE=0 with seeds never used in development measures the noise budget on
# held-out fault-free data: every page is then a false one.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
config="${CONFIG:-release}"
count="${COUNT:-100000}"
seeds="${SEEDS:-1 2 3}"
anomaly_rate="${ANOMALY_RATE:-0.02}"
services_bin="$root/.build-services/$config"
shared_bin="$root/shared/.build/$config"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for binary in "$shared_bin/alertron-devbroker" "$services_bin/scorer" "$services_bin/generator"; do
  [ -x "$binary" ] || { echo "evaluate: $binary is missing; run 'make build CONFIG=$config' first" >&2; exit 1; }
done

"$shared_bin/alertron-devbroker" --listen "127.0.0.1:$(free_port)" --control "127.0.0.1:$(free_port)" \
  --bootstrap-file "$work/bootstrap" >"$work/devbroker.out" 2>"$work/devbroker.log" &
pids+=($!)
for _ in $(seq 150); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
[ -s "$work/bootstrap" ] || { echo "evaluate: the development broker did not start" >&2; exit 1; }
export KAFKA_BROKERS
KAFKA_BROKERS="$(cat "$work/bootstrap")"

export MODEL_PATH="$work/sensor.json" LOG_MODEL_PATH="$work/logs.json"
"$services_bin/scorer" train --synthetic --out "$MODEL_PATH" >/dev/null
"$services_bin/scorer" train-logs --input "$root/services/scorer/data/log-corpus.jsonl" --out "$LOG_MODEL_PATH" \
  >/dev/null
# shellcheck disable=SC2086 # SCORER_ARGS is a list of flags
"$services_bin/scorer" serve --port 0 --log-level warning ${SCORER_ARGS:-} 2>"$work/scorer.log" &
pids+=($!)

# Each run carries the fleet's own clock (a reading a minute per device), the runs one after
# another in time, so every device's stream goes on as days of one life.
total=0
run=0
for seed in $seeds; do
  # The generator's defaults: 50 devices, a reading a minute each.
  start="$(date -u -d "@$((1767225600 + run * count * 60 / 50))" +%Y-%m-%dT%H:%M:%SZ)"
  "$services_bin/generator" generate --target kafka --port 0 --count "$count" --rate 0 --seed "$seed" \
    --anomaly-rate "$anomaly_rate" \
    --run-id "s$seed" --start "$start" --log-level warning >/dev/null
  total=$((total + count))
  run=$((run + 1))
done
"$services_bin/generator" evaluate --count "$total" --idle-timeout 20 --model "$MODEL_PATH"
