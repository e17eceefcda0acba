#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through "test_$name" and traps, which shellcheck cannot follow
# Fault tests (issue 8), on the debug build that `make test` makes: the scorer killed mid-stream,
# a scorer replica killed, the broker down for 10 s under ingest, Slack failing, 10k malformed
# messages, and HTTP fuzzing of ingest and the notifier's webhook. Each test starts what it
# needs on free ports (its own development broker, so counts never mix), asserts counts, prints
# its figures, and stops every process it started, even on failure. Exit status: the number of
# failed tests (0: all passed). Run it under the build lock, so it never shares the CPU with a
# build or another heavy test: flock /tmp/alertron-swift-build.lock scripts/test-faults.sh
#
#   scripts/test-faults.sh                 # every test
#   scripts/test-faults.sh kill fuzz       # only these (kill replicas broker slack malformed fuzz)
#   KEEP_RUN_DIR=1 scripts/test-faults.sh  # keep logs and topic dumps (printed at the end)
#
# Knobs (defaults in brackets): KILL_COUNT / KILL_RATE [60000 readings at 3000/s],
# REPLICAS_COUNT / REPLICAS_RATE [the same], OUTAGE_SECONDS [10], SLACK_500_TIMES [4],
# SLACK_429_TIMES [3], MALFORMED_COUNT [10000], FUZZ_REQUESTS [4000], FUZZ_SEED [1].
# Setup errors (a binary or tool missing, training failed) exit 125.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
shared_bin="$root/shared/.build/debug"
services_bin="$root/.build-services/debug"
faults="$root/scripts/faults"
work="$(mktemp -d /tmp/alertron-faults.XXXXXX)"
started=$SECONDS

for binary in "$shared_bin/alertron-devbroker" "$shared_bin/alertron-slack-standin" \
  "$services_bin/scorer" "$services_bin/ingest" "$services_bin/notifier" "$services_bin/generator"; do
  [ -x "$binary" ] || { echo "test-faults: $binary is missing; run 'make build-tests' (or make build CONFIG=debug) first" >&2; exit 125; }
done
for tool in kcat curl python3 setsid; do
  command -v "$tool" >/dev/null || { echo "test-faults: $tool is missing; run 'make deps'" >&2; exit 125; }
done

# ---------------------------------------------------------------------------------------------
# Processes. Each one leads its own process group (setsid), so stopping it stops anything it
# started too. `procs` lists the current test's groups in start order; they are stopped in
# reverse order (services before the broker, so consumers commit while it is there) at the
# end of each test and, whatever happens, on exit.
declare -a procs=() test_groups=()
declare -A pid=()
test_dir=""

start_proc() {  # name, command...: starts it in the background, stdout/stderr to $test_dir/name.{out,log}
  local name=$1
  shift
  setsid "$@" >"$test_dir/$name.out" 2>"$test_dir/$name.log" </dev/null &
  pid[$name]=$!
  procs+=("$name")
  test_groups+=("$!")
}

alive() { kill -0 "${pid[$1]}" 2>/dev/null; }

stop_proc() {  # name [signal]: signal its group (TERM by default), wait up to 20 s, then KILL
  local name=$1 signal=${2:-TERM} p=${pid[$1]:-}
  [ -n "$p" ] || return 0
  kill -"$signal" -- "-$p" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    echo "  note: $name did not stop within 20 s of SIG$signal; killed" >&2
    kill -KILL -- "-$p" 2>/dev/null || true
  fi
  # Anything left in its group (there should be nothing) goes too.
  kill -KILL -- "-$p" 2>/dev/null || true
  wait "$p" 2>/dev/null
  local status=$?
  unset "pid[$name]"
  return "$status"
}

wait_exit() {  # name seconds: waits for it to exit by itself; its exit status (124 after the timeout, then stopped)
  local name=$1 seconds=$2 p=${pid[$1]:-}
  [ -n "$p" ] || return 0
  for _ in $(seq $((seconds * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    echo "  $name still running after $seconds s; stopping it" >&2
    stop_proc "$name"
    return 124
  fi
  wait "$p" 2>/dev/null
  local status=$?
  unset "pid[$name]"
  return "$status"
}

stop_all() {
  local i
  for ((i = ${#procs[@]} - 1; i >= 0; i--)); do
    [ -n "${pid[${procs[$i]}]:-}" ] && stop_proc "${procs[$i]}"
  done
  procs=()
}

cleanup() {
  stop_all
  if [ -n "${KEEP_RUN_DIR:-}" ]; then echo "run folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Helpers.

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-3}" "$1" 2>/dev/null || true; }

wait_ready() {  # name port [seconds]
  local name=$1 port=$2 seconds=${3:-60}
  for _ in $(seq $((seconds * 5))); do
    [ "$(http_status "http://127.0.0.1:$port/readyz")" = 200 ] && return 0
    alive "$name" || { echo "  $name exited while starting; its log:" >&2; tail -n 20 "$test_dir/$name.log" >&2; return 1; }
    sleep 0.2
  done
  echo "  $name not ready after $seconds s; its log:" >&2
  tail -n 20 "$test_dir/$name.log" >&2
  return 1
}

metric_sum() {  # port, metric name with an optional label filter: the sum of its samples (0 if unreachable)
  { curl -fs --max-time 3 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } \
    | awk -v name="$2" 'index($0, name) == 1 && substr($0, length(name) + 1, 1) ~ /[{ },]/ { total += $NF } END { printf "%d", total }'
}

crash_reason() {  # name: why it died, from its log: Swift's fatal error and the first frame in Alertron's code
  grep -m1 -o 'Fatal error: .*' "$test_dir/$1.log"
  grep -m1 -E ' at [^ ]*/(services|shared)/[^ ]*\.swift:[0-9]+' "$test_dir/$1.log" | sed -E 's/^.*0x[0-9a-f]+ +//'
}

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n 1; }  # key, "k=v k=v ...": the value

read_topic() {  # topic: every message, one per line: partition TAB offset TAB value
  kcat -b "$brokers" -C -t "$1" -e -q -f '%p\t%o\t%s\n' 2>>"$test_dir/kcat.log"
}

# Starts this test's development broker; sets brokers and control.
start_broker() {
  local port control_port
  port=$(free_port)
  control_port=$(free_port)
  start_proc devbroker "$shared_bin/alertron-devbroker" --listen "127.0.0.1:$port" --control "127.0.0.1:$control_port" \
    --bootstrap-file "$test_dir/bootstrap"
  for _ in $(seq 150); do [ -s "$test_dir/bootstrap" ] && break; sleep 0.1; done
  [ -s "$test_dir/bootstrap" ] || { echo "  the development broker did not start" >&2; return 1; }
  brokers=$(cat "$test_dir/bootstrap")
  control="http://127.0.0.1:$control_port"
}

# The local profile, as scripts/run-local.sh sets it: every consumer gets one low session
# timeout (the development broker's rebalance after a member leaves waits about
# session.timeout.ms - 1 s, and members with different values can wedge the group), and a
# short fetch wait (the development broker answers a fetch only after fetch.wait.max.ms).
service_env() {  # port: the environment every service runs with
  echo KAFKA_BROKERS="$brokers" KAFKA_SESSION_TIMEOUT_MS=6000 KAFKA_FETCH_WAIT_MAX_MS=10 HOST=127.0.0.1 PORT="$1" LOG_LEVEL=info \
    MODEL_PATH="$work/models/sensor-iforest.json" LOG_MODEL_PATH="$work/models/log-severity.json"
}

start_scorer() {  # name port [extra env...]
  local name=$1 port=$2
  shift 2
  # shellcheck disable=SC2046  # word splitting of service_env is intended (no spaces in values)
  start_proc "$name" env $(service_env "$port") SCORER_BATCH_SIZE="$batch_size" SCORER_BATCHES_IN_FLIGHT="$batches_in_flight" \
    "$@" "$services_bin/scorer" serve
}

# ---------------------------------------------------------------------------------------------
# Assertions: each test counts its failures; a test passes when it has none.
test_failures=0
check() {  # description, command...: passes when the command succeeds
  local description=$1
  shift
  if "$@"; then echo "  ok    $description"; else echo "  FAIL  $description"; test_failures=$((test_failures + 1)); fi
}
figure() { echo "  figure: $*"; figures+=("$*"); }

# Waits until every expected id is on a topic: topic, seconds, topic_ids.py arguments. Leaves
# the last count in $ids_summary and the dump in $test_dir/<topic>.tsv.
wait_for_ids() {
  local topic=$1 seconds=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  while :; do
    read_topic "$topic" >"$test_dir/$topic.tsv"
    ids_summary=$(python3 "$faults/topic_ids.py" "$@" <"$test_dir/$topic.tsv")
    [ "$(kv missing "$ids_summary")" = 0 ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 2
  done
}

# The scorer's own settings as it resolves them (--show-settings prints VARIABLE=value and
# exits): the duplicate bound of the kill tests is its batch size times its batches in flight.
scorer_settings=$("$services_bin/scorer" serve --show-settings)
batch_size=$(sed -n 's/^SCORER_BATCH_SIZE=//p' <<<"$scorer_settings")
batches_in_flight=$(sed -n 's/^SCORER_BATCHES_IN_FLIGHT=//p' <<<"$scorer_settings")
if [ -z "$batch_size" ] || [ -z "$batches_in_flight" ]; then
  echo "test-faults: could not read the scorer's settings from --show-settings" >&2
  exit 125
fi

# The models, trained once for every test (seconds).
models_started=$SECONDS
mkdir -p "$work/models"
if ! "$services_bin/scorer" train --synthetic --out "$work/models/sensor-iforest.json" >"$work/models/train.log" 2>&1 \
  || ! "$services_bin/scorer" train-logs --input "$root/services/scorer/data/log-corpus.jsonl" \
    --out "$work/models/log-severity.json" >>"$work/models/train.log" 2>&1; then
  echo "test-faults: training the models failed:" >&2
  cat "$work/models/train.log" >&2
  exit 125
fi
models_seconds=$((SECONDS - models_started))

# =============================================================================================
# 1. kill -9 the scorer mid-stream and restart it.
test_kill() {
  local count=${KILL_COUNT:-60000} rate=${KILL_RATE:-3000} run=kill$$ port gen_port before_kill generator_status
  port=$(free_port)
  gen_port=$(free_port)
  start_broker || return 1
  start_scorer scorer "$port"
  wait_ready scorer "$port" || return 1
  # shellcheck disable=SC2046
  start_proc generator env $(service_env "$gen_port") "$services_bin/generator" generate --target kafka \
    --count "$count" --rate "$rate" --seed 1 --run-id "$run"
  # Mid-stream: once a third of the stream is scored.
  for _ in $(seq 600); do
    [ "$(metric_sum "$port" predictions_total)" -ge $((count / 3)) ] && break
    sleep 0.1
  done
  before_kill=$(metric_sum "$port" predictions_total)
  local batch_events batches
  batch_events=$(metric_sum "$port" alertron_scorer_batch_events_sum)
  batches=$(metric_sum "$port" alertron_scorer_batch_events_count)
  kill -KILL -- "-${pid[scorer]}"
  wait "${pid[scorer]}" 2>/dev/null
  unset "pid[scorer]"
  local killed_at=$SECONDS
  figure "scorer killed (SIGKILL) after $before_kill readings scored of $count (stream at $rate/s; $batches batches so far, $((batch_events / (batches > 0 ? batches : 1))) events each on average)"
  check "generator still sending when the scorer was killed" alive generator
  start_scorer scorer-restarted "$port"
  wait_ready scorer-restarted "$port" || return 1
  wait_exit generator 120
  generator_status=$?
  wait_for_ids scored 180 --prefix "$run" --count "$count" --detail
  local scored=$ids_summary
  read_topic readings >"$test_dir/readings.tsv"
  local readings
  readings=$(python3 "$faults/topic_ids.py" --prefix "$run" --count "$count" <"$test_dir/readings.tsv")
  local duplicates bound=$((batch_size * batches_in_flight))
  duplicates=$(kv duplicates "$scored")
  figure "readings topic: $readings"
  figure "scored topic:   $(head -n 1 <<<"$scored")"
  figure "caught up $((SECONDS - killed_at)) s after the kill; restarted scorer scored $(metric_sum "$port" predictions_total)"
  figure "duplicates $duplicates; bound batch size $batch_size x batches in flight $batches_in_flight = $bound"
  check "generator exited 0 (every reading acknowledged)" test "$generator_status" = 0
  check "every reading the generator sent is on readings ($count)" test "$(kv unique "$readings")" = "$count"
  check "0 readings lost: every id is on scored" test "$(kv missing "$scored")" = 0
  check "duplicates ($duplicates) <= batch size x batches in flight ($bound)" test "$duplicates" -le "$bound"
}

# =============================================================================================
# 2. Two scorer replicas; one is killed (SIGKILL: a crash or an OOM kill, the case where the
#    replica can hand nothing over, commit nothing and leave no group; its partitions come back
#    only when its session times out). The other takes its partitions over, and the stream
#    completes without a restart.
test_replicas() {
  local count=${REPLICAS_COUNT:-60000} rate=${REPLICAS_RATE:-3000} run=replicas$$ port_a port_b gen_port a b settled=0
  port_a=$(free_port)
  port_b=$(free_port)
  gen_port=$(free_port)
  start_broker || return 1
  start_scorer scorer-a "$port_a"
  start_scorer scorer-b "$port_b"
  wait_ready scorer-a "$port_a" || return 1
  wait_ready scorer-b "$port_b" || return 1
  # The group has settled when the two own all 6 partitions of readings between them.
  for _ in $(seq 300); do
    a=$(python3 "$faults/partitions.py" "$test_dir/scorer-a.log")
    b=$(python3 "$faults/partitions.py" "$test_dir/scorer-b.log")
    if [ "$(kv count "$a")" -gt 0 ] && [ "$(kv count "$b")" -gt 0 ] && [ $(($(kv count "$a") + $(kv count "$b"))) -eq 6 ]; then
      settled=1
      break
    fi
    sleep 0.2
  done
  figure "before the kill: scorer-a owns partitions $(kv owned "$a"), scorer-b owns $(kv owned "$b")"
  check "the two replicas share the 6 partitions of readings" test "$settled" = 1
  # shellcheck disable=SC2046
  start_proc generator env $(service_env "$gen_port") "$services_bin/generator" generate --target kafka \
    --count "$count" --rate "$rate" --seed 2 --run-id "$run"
  for _ in $(seq 600); do
    [ $(($(metric_sum "$port_a" predictions_total) + $(metric_sum "$port_b" predictions_total))) -ge $((count / 3)) ] && break
    sleep 0.1
  done
  local scored_a scored_b killed_at kill_time
  scored_a=$(metric_sum "$port_a" predictions_total)
  scored_b=$(metric_sum "$port_b" predictions_total)
  kill_time=$(date +%s.%N)
  kill -KILL -- "-${pid[scorer-b]}"
  wait "${pid[scorer-b]}" 2>/dev/null
  unset "pid[scorer-b]"
  killed_at=$SECONDS
  figure "scorer-b killed (SIGKILL) after scorer-a scored $scored_a and scorer-b $scored_b of $count (stream at $rate/s)"
  check "generator still sending when scorer-b was killed" alive generator
  wait_exit generator 180
  local generator_status=$?
  wait_for_ids scored 180 --prefix "$run" --count "$count" --detail
  local scored=$ids_summary after
  after=$(python3 "$faults/partitions.py" "$test_dir/scorer-a.log" --since "$kill_time")
  local victim taken duplicates bound=$((batch_size * batches_in_flight))
  victim=$(kv owned "$b")
  taken=$(kv assigned_since "$after")
  duplicates=$(kv duplicates "$scored")
  figure "after the kill: scorer-a owns partitions $(kv owned "$after"); it was assigned $taken $(kv first_assigned_after_s "$after") s after the kill"
  figure "scored topic: $(head -n 1 <<<"$scored"); stream complete $((SECONDS - killed_at)) s after the kill"
  figure "duplicates $duplicates; bound batch size $batch_size x batches in flight $batches_in_flight = $bound"
  check "generator exited 0 (every reading acknowledged)" test "$generator_status" = 0
  check "scorer-a took over scorer-b's partitions ($victim) and owns all 6" \
    python3 -c 'import sys; taken=set(sys.argv[1].split(",")); victim=set(sys.argv[2].split(",")); sys.exit(0 if victim <= taken and sys.argv[3] == "6" else 1)' \
    "$taken" "$victim" "$(kv count "$after")"
  check "the stream completed: every id is on scored" test "$(kv missing "$scored")" = 0
  check "duplicates ($duplicates) <= batch size x batches in flight ($bound)" test "$duplicates" -le "$bound"
  check "scorer-a still ready" test "$(http_status "http://127.0.0.1:$port_a/readyz")" = 200
}

# =============================================================================================
# 3. The development broker down for 10 s under ingest: 503 with Retry-After meanwhile, then
#    recovery, and every reading ingest accepted (202) is on readings and on scored.
test_broker() {
  local scorer_port ingest_port run=outage$$ status
  scorer_port=$(free_port)
  ingest_port=$(free_port)
  start_broker || return 1
  start_scorer scorer "$scorer_port"
  # shellcheck disable=SC2046
  start_proc ingest env $(service_env "$ingest_port") "$services_bin/ingest"
  wait_ready scorer "$scorer_port" || return 1
  wait_ready ingest "$ingest_port" || return 1
  python3 "$faults/ingest_outage.py" --ingest "http://127.0.0.1:$ingest_port" --control "$control" --prefix "$run" \
    --before 5 --down "${OUTAGE_SECONDS:-10}" --after 25 --recover-within 15 --accepted "$test_dir/accepted.txt" \
    --refused "$test_dir/refused.txt" >"$test_dir/outage.txt"
  status=$?
  while IFS= read -r line; do figure "$line"; done <"$test_dir/outage.txt"
  check "ingest answered 503 with Retry-After during the outage, only 202 or 503 throughout, and 202 again after it" \
    test "$status" = 0
  local accepted readings scored
  accepted=$(grep -c . "$test_dir/accepted.txt")
  wait_for_ids readings 60 --expect-file "$test_dir/accepted.txt" --detail
  readings=$ids_summary
  wait_for_ids scored 120 --expect-file "$test_dir/accepted.txt" --detail
  scored=$ids_summary
  figure "accepted readings on readings: $(head -n 1 <<<"$readings")"
  figure "accepted readings on scored:   $(head -n 1 <<<"$scored")"
  if [ -s "$test_dir/refused.txt" ]; then
    local refused
    refused=$(python3 "$faults/topic_ids.py" --expect-file "$test_dir/refused.txt" <"$test_dir/readings.tsv")
    figure "readings refused with 503 that reached readings anyway (the at-least-once duplicates a retry would make): $(($(kv expected "$refused") - $(kv missing "$refused"))) of $(kv expected "$refused")"
  fi
  check "ingest accepted readings at all ($accepted)" test "$accepted" -gt 0
  check "0 accepted readings lost on readings" test "$(kv missing "$readings")" = 0
  check "0 accepted readings lost on scored" test "$(kv missing "$scored")" = 0
  check "ingest ready again" test "$(http_status "http://127.0.0.1:$ingest_port/readyz")" = 200
  check "scorer ready again" test "$(http_status "http://127.0.0.1:$scorer_port/readyz")" = 200
}

# =============================================================================================
# 4. Slack (the stand-in, bot mode) answers 500, then 429, for a while: every alert is
#    delivered exactly once after recovery, counted from the messages' Slack metadata.
test_slack() {
  local notifier_port standin run=slack$$ status
  notifier_port=$(free_port)
  start_broker || return 1
  start_proc slack-standin "$shared_bin/alertron-slack-standin" --listen 127.0.0.1:0 --url-file "$test_dir/standin-url"
  for _ in $(seq 100); do [ -s "$test_dir/standin-url" ] && break; sleep 0.1; done
  standin=$(cat "$test_dir/standin-url" 2>/dev/null)
  [ -n "$standin" ] || { echo "  the Slack stand-in did not start"; return 1; }
  # shellcheck disable=SC2046
  start_proc notifier env $(service_env "$notifier_port") SLACK_BOT_TOKEN=xoxb-fault-test SLACK_API_URL="$standin/api" \
    SLACK_CHANNEL=alerts NOTIFIER_GROUP_WINDOW_MS=2000 "$services_bin/notifier" serve
  wait_ready notifier "$notifier_port" || return 1
  local failures_500=${SLACK_500_TIMES:-4} failures_429=${SLACK_429_TIMES:-3}
  check "the stand-in took the failure script" curl -fs -o /dev/null -XPOST "$standin/_standin/script" \
    -d "[{\"status\":500,\"times\":$failures_500},{\"status\":429,\"retry_after\":2,\"times\":$failures_429}]"
  figure "Slack answers the next $failures_500 messages 500, then $failures_429 with 429 (Retry-After 2 s)"
  figure "$(python3 "$faults/slack_alerts.py" plan --prefix "$run" --out "$test_dir/alerts")"
  kcat -b "$brokers" -P -t anomalies -K '\t' <"$test_dir/alerts/wave1"
  sleep 4  # the second wave arrives while Slack is still failing
  kcat -b "$brokers" -P -t anomalies -K '\t' <"$test_dir/alerts/wave2"
  python3 "$faults/slack_alerts.py" check --standin "$standin" --expected "$test_dir/alerts/expected.json" >"$test_dir/check.txt"
  status=$?
  while IFS= read -r line; do figure "$line"; done <"$test_dir/check.txt"
  local answers duplicates
  answers=$(grep '^chat.postMessage answers' "$test_dir/check.txt")
  duplicates=$(metric_sum "$notifier_port" 'alertron_notifier_duplicates_total{source="anomalies"')
  figure "notifier dropped $duplicates repeated ids; retries: server_error $(metric_sum "$notifier_port" 'alertron_notifier_slack_retries_total{reason="server_error"'), rate_limited $(metric_sum "$notifier_port" 'alertron_notifier_slack_retries_total{reason="rate_limited"'); dead letters $(metric_sum "$notifier_port" alertron_notifier_dead_letters_total)"
  check "Slack answered 500 $failures_500 times and 429 $failures_429 times (the faults happened)" \
    grep -Eq "(^|[ ,])500: $failures_500(,|$)" <<<"$answers" && grep -Eq "(^|[ ,])429: $failures_429(,|$)" <<<"$answers"
  check "every alert delivered exactly once (per subject and in total)" test "$status" = 0
  check "the repeated ids were dropped as duplicates (30)" test "$duplicates" = 30
  check "nothing dead-lettered" test "$(metric_sum "$notifier_port" alertron_notifier_dead_letters_total)" = 0
}

# =============================================================================================
# 5. 10k malformed messages on readings: every one dead-lettered on readings.dlq with its
#    reason, the scorer stays ready throughout, and a valid reading sent afterwards is scored.
test_malformed() {
  local port run=malformed$$ status letters=0 not_ready=0 samples=0 code
  port=$(free_port)
  start_broker || return 1
  start_scorer scorer "$port"
  wait_ready scorer "$port" || return 1
  figure "$(python3 "$faults/malformed.py" generate --count "${MALFORMED_COUNT:-10000}" --out "$test_dir/malformed")"
  local count
  count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$test_dir/malformed/manifest.json")
  kcat -b "$brokers" -P -t readings -z zstd -K '\t' -D '\n~~alertron-fault-separator-5d1c09~~\n' <"$test_dir/malformed/messages"
  echo "{\"schema\":1,\"kind\":\"reading\",\"id\":\"$run-0\",\"ts\":\"2026-11-21T08:00:00Z\",\"device_id\":\"edge-1\",\"temperature\":21.5,\"pressure\":1013.0,\"vibration\":0.02}" \
    | kcat -b "$brokers" -P -t readings -k edge-1
  local started_at=$SECONDS deadline=$((SECONDS + 240))
  while [ "$SECONDS" -lt "$deadline" ]; do
    code=$(http_status "http://127.0.0.1:$port/readyz")
    samples=$((samples + 1))
    [ "$code" = 200 ] || not_ready=$((not_ready + 1))
    letters=$(metric_sum "$port" alertron_scorer_dead_letters_total)
    [ "$letters" -ge "$count" ] && break
    alive scorer || break
    sleep 0.25
  done
  figure "$letters dead letters $((SECONDS - started_at)) s after sending $count malformed messages; /readyz not 200 in $not_ready of $samples samples meanwhile"
  wait_for_ids scored 60 --prefix "$run" --count 1
  local valid=$ids_summary
  read_topic readings.dlq >"$test_dir/readings.dlq.tsv"
  python3 "$faults/malformed.py" check --manifest "$test_dir/malformed/manifest.json" <"$test_dir/readings.dlq.tsv" >"$test_dir/check.txt"
  status=$?
  while IFS= read -r line; do figure "$line"; done <"$test_dir/check.txt"
  local counted
  counted=$(metric_sum "$port" alertron_scorer_dead_letters_total)
  figure "alertron_scorer_dead_letters_total: $counted"
  check "every malformed message dead-lettered exactly once, with an allowed reason code, its reason, source position and payload" \
    test "$status" = 0
  check "the scorer counted $count dead letters" test "$counted" = "$count"
  check "scorer alive and /healthz 200" test "$(http_status "http://127.0.0.1:$port/healthz")" = 200
  check "/readyz 200 throughout and after" test "$not_ready" = 0 -a "$(http_status "http://127.0.0.1:$port/readyz")" = 200
  check "a valid reading sent afterwards is scored" test "$(kv missing "$valid")" = 0
}

# =============================================================================================
# 6. HTTP fuzzing of ingest (POST /v1/readings, /v1/logs, /ingest, GET /log/...) and of the
#    notifier's webhook (POST /v1/alertmanager, with the token, without, and wrong): no crash,
#    only 4xx (or 2xx when the input happened to be valid); no 5xx, reset or timeout.
test_fuzz() {
  local ingest_port notifier_port scorer_port token=fuzz-token-$$ seed=${FUZZ_SEED:-1} status run=fuzz$$
  ingest_port=$(free_port)
  notifier_port=$(free_port)
  scorer_port=$(free_port)
  start_broker || return 1
  start_scorer scorer "$scorer_port"
  # shellcheck disable=SC2046
  start_proc ingest env $(service_env "$ingest_port") "$services_bin/ingest"
  # shellcheck disable=SC2046
  start_proc notifier env $(service_env "$notifier_port") NOTIFIER_WEBHOOK_TOKEN="$token" \
    SLACK_SINK_FILE="$test_dir/slack-messages.jsonl" "$services_bin/notifier" serve
  wait_ready scorer "$scorer_port" || return 1
  wait_ready ingest "$ingest_port" || return 1
  wait_ready notifier "$notifier_port" || return 1
  python3 "$faults/http_fuzz.py" --ingest "http://127.0.0.1:$ingest_port" --notifier "http://127.0.0.1:$notifier_port" \
    --token "$token" --requests "${FUZZ_REQUESTS:-4000}" --seed "$seed" --failures "$test_dir/failures.jsonl" >"$test_dir/fuzz.txt"
  status=$?
  figure "seed $seed (FUZZ_SEED=$seed repeats this run)"
  while IFS= read -r line; do figure "$line"; done <"$test_dir/fuzz.txt"
  local service
  for service in ingest notifier; do
    if ! alive "$service"; then
      figure "$service DIED during the fuzzing: $(crash_reason "$service" | tr '\n' ' ')"
    fi
  done
  check "only 4xx (or 2xx for valid input): no 5xx, no reset, no timeout" test $((status & 1)) = 0
  check "every hand-picked edge case got its answer class (valid accepted, invalid refused with 4xx)" test $((status & 2)) = 0
  check "ingest alive, /healthz 200" test "$(http_status "http://127.0.0.1:$ingest_port/healthz")" = 200
  check "notifier alive, /healthz 200" test "$(http_status "http://127.0.0.1:$notifier_port/healthz")" = 200
  local reading_status webhook_status
  reading_status=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$ingest_port/v1/readings" -H 'Content-Type: application/json' \
    -d "{\"id\":\"$run-0\",\"device_id\":\"edge-1\",\"temperature\":21.5,\"pressure\":1013,\"vibration\":0.02}")
  webhook_status=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$notifier_port/v1/alertmanager" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"version":"4","groupKey":"fuzz-after","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"FuzzCheck"}}]}')
  check "ingest still accepts a valid reading (202, got $reading_status)" test "$reading_status" = 202
  check "the webhook still accepts a valid notification (200, got $webhook_status)" test "$webhook_status" = 200
  # What ingest accepted while fuzzed, the scorer can read: the valid reading sent last is
  # scored, and nothing before it was dead-lettered.
  if [ "$reading_status" = 202 ]; then
    wait_for_ids scored 60 --prefix "$run" --count 1
    check "the valid reading sent after the fuzzing is scored" test "$(kv missing "$ids_summary")" = 0
  fi
  # Once the scorer has gone through all of readings (scored + dead-lettered = produced).
  local produced scored_count dead_letters
  for _ in $(seq 60); do
    produced=$(read_topic readings | wc -l)
    scored_count=$(read_topic scored | wc -l)
    dead_letters=$(read_topic readings.dlq | wc -l)
    [ $((scored_count + dead_letters)) -ge "$produced" ] && break
    sleep 1
  done
  figure "ingest accepted $produced events while fuzzed; the scorer scored $scored_count and dead-lettered $dead_letters"
  check "no event ingest accepted was dead-lettered by the scorer" test "$dead_letters" = 0
}

# =============================================================================================
all_tests=(kill replicas broker slack malformed fuzz)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${all_tests[@]}")
declare -a summary=()
failed=0
for name in "${selected[@]}"; do
  declare -F "test_$name" >/dev/null || { echo "test-faults: no test '$name' (tests: ${all_tests[*]})" >&2; exit 125; }
  test_dir="$work/$name"
  mkdir -p "$test_dir"
  test_failures=0
  test_groups=()
  figures=()
  echo "=== $name"
  test_started=$SECONDS
  if ! "test_$name"; then
    echo "  FAIL  the test could not run to its end"
    test_failures=$((test_failures + 1))
  fi
  # Every process the test started is stopped here, services before the broker; then no
  # process of any group it started may be left.
  stop_all
  left=$(for group in "${test_groups[@]}"; do pgrep -g "$group"; done | wc -l)
  check "nothing left running (${#test_groups[@]} process groups started)" test "$left" = 0
  outcome=PASS
  [ "$test_failures" -eq 0 ] || { outcome=FAIL; failed=$((failed + 1)); }
  summary+=("$outcome $name ($((SECONDS - test_started)) s)")
  echo "--- $outcome $name in $((SECONDS - test_started)) s"
done
echo "=== summary: $((${#selected[@]} - failed)) passed, $failed failed; $((SECONDS - started)) s in all (models trained in $models_seconds s)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
