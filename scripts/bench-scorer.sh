#!/usr/bin/env bash
# The scorer against the transport and a Python peer, all in one run on one development
# broker (issue 20's benchmark), release build:
#   1. ceiling: kcat draining `readings` (consume only, no work);
#   2. the scorer (`scorer serve`: per-device state, explanations, scored + anomalies + state);
#   3. the Python peer (scripts/bench/python_peer.py: confluent-kafka batches of 10,000, orjson,
#      numpy, scikit-learn's IsolationForest per batch, idempotent zstd producer, 8 batches in
#      flight, offsets stored after delivery) in one process, then in two (one per core, each
#      assigned half the partitions).
# Each consumer reads the same COUNT readings (500 devices, the generator's fleet) from the
# start in a group of its own. Rates are readings over the time from the first reading taken
# to the last one done; CPU, over the scorer's run from its first prediction to its last, is
# the whole machine's busy share (/proc/stat), the scorer's own and the development broker's. The peer's pinned requirements are installed into
# .venv-bench/ (PyPI). Figures go in BENCHMARKS.md.
# Usage: scripts/bench-scorer.sh (after make build); COUNT=200000 RUNS=2 by default.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
count="${COUNT:-200000}"
runs="${RUNS:-2}"
requirements="$root/scripts/bench/requirements-peer.txt"
venv="${BENCH_VENV:-$root/.venv-bench}"
bench_workspace
for binary in "$shared_bin/alertron-devbroker" "$services_bin/scorer" "$services_bin/generator"; do
  [ -x "$binary" ] || { echo "bench-scorer: $binary is missing; run 'make build' first" >&2; exit 1; }
done
command -v kcat >/dev/null || { echo "bench-scorer: kcat is missing (make deps installs it)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "bench-scorer: preparing $venv (pinned: $requirements)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
python="$venv/bin/python"

"$shared_bin/alertron-devbroker" --listen "127.0.0.1:$(free_port)" --control "127.0.0.1:$(free_port)" \
  --bootstrap-file "$work/bootstrap" >/dev/null 2>"$work/devbroker.log" &
devbroker=$!
pids+=("$devbroker")
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers="$(cat "$work/bootstrap")"
KAFKA_BROKERS="$brokers" PORT=0 LOG_LEVEL=warning "$services_bin/generator" --target kafka --mode readings \
  --devices 500 --count "$count" --rate 0 --seed 20 >/dev/null 2>"$work/generator.log"
on_topic=$(kcat -C -b "$brokers" -t readings -o beginning -e -q -f '\n' | wc -l)
[ "$on_topic" -eq "$count" ] || { echo "bench-scorer: $on_topic of $count readings on the topic" >&2; exit 1; }
"$services_bin/scorer" train --synthetic --out "$work/sensor-iforest.json" >/dev/null
"$services_bin/scorer" train-logs --input "$root/services/scorer/data/log-corpus.jsonl" --out "$work/log-severity.json" \
  >/dev/null
kcat -C -b "$brokers" -t readings -o beginning -e -q -c 20000 >"$work/first.jsonl"
"$python" "$root/scripts/bench/train_peer_model.py" "$work/first.jsonl" "$work/peer.pkl"

now() { date +%s.%N; }
cores=$(nproc)

echo "bench-scorer: $count readings (500 devices), $runs runs, $cores cores"
for run in $(seq "$runs"); do
  # 1. The ceiling: kcat drains the topic.
  start=$(now)
  kcat -C -b "$brokers" -t readings -o beginning -e -q -f '%s\n' >/dev/null
  ceiling=$(echo "$count / ($(now) - $start)" | bc -l)

  # 2. The scorer, in a group of its own, with its own state topic.
  port=$(free_port)
  KAFKA_BROKERS="$brokers" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warning MODEL_PATH="$work/sensor-iforest.json" \
    LOG_MODEL_PATH="$work/log-severity.json" SCORER_GROUP="bench-scorer-$run" KAFKA_FETCH_WAIT_MAX_MS=10 \
    "$services_bin/scorer" serve >/dev/null 2>"$work/scorer-$run.log" &
  scorer=$!
  pids+=("$scorer")
  read -r elapsed scorer_busy scorer_own broker_own < <(
    python3 "$root/scripts/bench/wait_scored.py" "$port" "$count" 300 "$scorer" "$devbroker"
  ) || { echo "bench-scorer: the scorer did not score all $count" >&2; tail -3 "$work/scorer-$run.log" >&2; exit 1; }
  kill -TERM "$scorer"
  wait "$scorer" 2>/dev/null || true
  scorer_rate=$(echo "$count / $elapsed" | bc -l)

  # 3. The Python peer: one process, then two in one group.
  peer() { # processes, group: the peers' JSON lines
    local n=$1 group=$2 i
    local peers=()
    for i in $(seq "$n"); do
      "$python" "$root/scripts/bench/python_peer.py" "$brokers" "$group" "$work/peer.pkl" scored.peer 3 $((i - 1)) "$n" \
        >"$work/$group-$i.json" 2>"$work/$group-$i.log" &
      peers+=($!)
    done
    wait "${peers[@]}"
    cat "$work/$group"-*.json
  }
  peer_rate() { # JSON lines: readings over first to last
    "$python" -c 'import json, sys
rows = [json.loads(line) for line in sys.stdin if line.strip()]
scored = sum(r["scored"] for r in rows)
print(scored / (max(r["last"] for r in rows) - min(r["first"] for r in rows)), scored)'
  }
  read -r one one_scored < <(peer 1 "bench-peer1-$run" | peer_rate)
  read -r two two_scored < <(peer 2 "bench-peer2-$run" | peer_rate)
  [ "$one_scored" -ge "$count" ] && [ "$two_scored" -ge "$count" ] \
    || echo "bench-scorer: the peer scored $one_scored and $two_scored of $count" >&2

  printf 'run %d: kcat drain %7.0f/s | scorer %7.0f/s (%.2fx ceiling; machine %s%% busy: scorer %s%%, broker %s%% of %d cores)\n' \
    "$run" "$ceiling" "$scorer_rate" "$(echo "$scorer_rate / $ceiling" | bc -l)" "$scorer_busy" "$scorer_own" "$broker_own" "$cores"
  printf '       python peer 1 process %7.0f/s, 2 processes %7.0f/s | scorer %.2fx the 2-process peer\n' \
    "$one" "$two" "$(echo "$scorer_rate / $two" | bc -l)"
done
