#!/usr/bin/env bash
# The mesh on the embedded default: the development broker, then every service, each
# waited for on /readyz. Ctrl-C (or SIGTERM) stops every process this script started.
# Ports and the run folder are environment variables, so tests can run it beside a live one.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
config="${CONFIG:-release}"
run_dir="${RUN_DIR:-$root/run}"
broker_port="${BROKER_PORT:-9092}"
control_port="${DEVBROKER_CONTROL_PORT:-9095}"
prometheus_port="${PROMETHEUS_PORT:-9090}"
alertmanager_port="${ALERTMANAGER_PORT:-9093}"
slack_port="${SLACK_STANDIN_PORT:-8090}"
mqtt_port="${MQTT_PORT:-1883}"
declare -A service_ports=(
  [ingest]="${INGEST_PORT:-8080}" [scorer]="${SCORER_PORT:-8081}"
  [notifier]="${NOTIFIER_PORT:-8082}" [generator]="${GENERATOR_PORT:-8083}"
)
services=(scorer notifier ingest generator)   # consumers first, producers of traffic last
# LOCAL_GENERATOR=off leaves the traffic to the caller (the end-to-end test sends its own).
[ "${LOCAL_GENERATOR:-on}" = off ] && services=(scorer notifier ingest)
shared_bin="$root/shared/.build/$config"
services_bin="$root/.build-services/$config"

mkdir -p "$run_dir"
pids=()
stopping=0

stop_all() {
  [ "$stopping" -eq 1 ] && return
  stopping=1
  echo
  echo "stopping ${#pids[@]} processes..."
  # Everything but the broker first, so consumers commit their offsets and producers flush
  # while it is still there; then the broker (pids[0]). Whatever is left after 10 s is killed.
  terminate() {
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
      alive=0
      for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.1
    done
    for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
  }
  [ "${#pids[@]}" -gt 1 ] && terminate "${pids[@]:1}"
  [ "${#pids[@]}" -gt 0 ] && terminate "${pids[0]}"
  wait 2>/dev/null || true
  echo "stopped; logs are in $run_dir"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in "$broker_port" "$control_port" "${service_ports[@]}" "$prometheus_port" "$alertmanager_port" "$slack_port" \
  "$mqtt_port"; do
  if port_in_use "$port"; then
    echo "run: port $port is already in use (another 'make run'?); set BROKER_PORT, INGEST_PORT, ... to move" >&2
    exit 1
  fi
done
for binary in "$shared_bin/alertron-devbroker" "${services[@]/#/$services_bin/}"; do
  [ -x "$binary" ] || { echo "run: $binary is missing; run 'make build CONFIG=$config' first" >&2; exit 1; }
done
for binary in /usr/bin/prometheus /usr/bin/prometheus-alertmanager /usr/sbin/mosquitto; do
  [ -x "$binary" ] || { echo "run: $binary is missing; run 'make deps' first" >&2; exit 1; }
done

rm -f "$run_dir/bootstrap"
"$shared_bin/alertron-devbroker" --listen "127.0.0.1:$broker_port" --control "127.0.0.1:$control_port" \
  --bootstrap-file "$run_dir/bootstrap" >"$run_dir/devbroker.out" 2>"$run_dir/devbroker.log" &
pids+=($!)
for _ in $(seq 150); do [ -s "$run_dir/bootstrap" ] && break; sleep 0.1; done
[ -s "$run_dir/bootstrap" ] || { echo "run: the development broker did not start; see $run_dir/devbroker.log" >&2; exit 1; }

# The scorer's default sensor model: trained once (seconds) on synthetic normal readings.
export MODEL_PATH="${MODEL_PATH:-$run_dir/models/sensor-iforest.json}"
if [ ! -f "$MODEL_PATH" ]; then
  mkdir -p "$(dirname "$MODEL_PATH")"
  "$services_bin/scorer" train --synthetic --out "$MODEL_PATH" || { echo "run: training the default model failed" >&2; exit 1; }
fi
# The default log severity model: trained (a second) from the team's corpus, again whenever
# the corpus changes.
export LOG_MODEL_PATH="${LOG_MODEL_PATH:-$run_dir/models/log-severity.json}"
log_corpus="$root/services/scorer/data/log-corpus.jsonl"
if [ ! -f "$LOG_MODEL_PATH" ] || [ "$log_corpus" -nt "$LOG_MODEL_PATH" ]; then
  mkdir -p "$(dirname "$LOG_MODEL_PATH")"
  "$services_bin/scorer" train-logs --input "$log_corpus" --out "$LOG_MODEL_PATH" \
    || { echo "run: training the default log model failed" >&2; exit 1; }
fi

export KAFKA_BROKERS
KAFKA_BROKERS="$(cat "$run_dir/bootstrap")"
# The local profile: one low session timeout for every group member, so a member that
# stops is replaced in seconds on the development broker.
export KAFKA_SESSION_TIMEOUT_MS="${KAFKA_SESSION_TIMEOUT_MS:-6000}"
# The development broker answers a fetch only after fetch.wait.max.ms (500 ms by default)
# even when messages are waiting, where a real broker answers at once; a short wait keeps
# the local mesh's latency what it would be on Kafka or Redpanda.
export KAFKA_FETCH_WAIT_MAX_MS="${KAFKA_FETCH_WAIT_MAX_MS:-10}"
# The generator's local profile: a modest stream of readings with anomalies, and log lines
# (a fifth of the events, 5% of them critical) so both models have work.
export GENERATOR_MODE="${GENERATOR_MODE:-mixed}" GENERATOR_RATE="${GENERATOR_RATE:-20}"
# Slack: a real one when SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN is set, else the local Slack
# stand-in in bot mode: it keeps each message as Slack would show it (updates, thread replies)
# in a JSONL file, and its buttons work: `alertron-slack-standin click` presses one, signed
# with this run's random signing secret.
export SLACK_SINK_FILE="${SLACK_SINK_FILE:-$run_dir/slack-messages.jsonl}"
standin=""
if [ -n "${SLACK_WEBHOOK_URL:-}" ]; then slack="Slack incoming webhook (SLACK_WEBHOOK_URL)"
elif [ -n "${SLACK_BOT_TOKEN:-}" ]; then slack="Slack bot token, channel ${SLACK_CHANNEL:-#alerts}"
else
  slack="no Slack configured: the local Slack stand-in, messages in $SLACK_SINK_FILE"
  export SLACK_SIGNING_SECRET="${SLACK_SIGNING_SECRET:-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}"
  export SLACK_BOT_TOKEN="xoxb-local-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  export SLACK_API_URL="http://127.0.0.1:$slack_port/api"
  standin="http://127.0.0.1:$slack_port"
  rm -f "$SLACK_SINK_FILE"
  "$shared_bin/alertron-slack-standin" --listen "127.0.0.1:$slack_port" --token "$SLACK_BOT_TOKEN" \
    --messages-file "$SLACK_SINK_FILE" --interactions-url "http://127.0.0.1:${service_ports[notifier]}/slack/interactions" \
    >"$run_dir/slack-standin.out" 2>"$run_dir/slack-standin.log" &
  pids+=($!)
  for _ in $(seq 100); do curl -fs -o /dev/null "$standin/healthz" && break; sleep 0.1; done
fi
# Silence buttons on Alertmanager's incidents create silences in this run's Alertmanager.
export ALERTMANAGER_URL="${ALERTMANAGER_URL:-http://127.0.0.1:$alertmanager_port}"
# Debian's mosquitto, with the broker configuration compose and Kubernetes use, made local:
# this port on loopback, anonymous clients (only here), sessions in memory. Ingest subscribes
# to it, and the generator publishes to it as a fleet of devices would (GENERATOR_TARGET=http
# posts to ingest's API instead, kafka produces to the topic directly).
local_mosquitto_conf "$mqtt_port" >"$run_dir/mosquitto.conf"
/usr/sbin/mosquitto -c "$run_dir/mosquitto.conf" >"$run_dir/mosquitto.out" 2>"$run_dir/mosquitto.log" &
pids+=($!)
for _ in $(seq 100); do port_in_use "$mqtt_port" && break; sleep 0.1; done
port_in_use "$mqtt_port" || { echo "run: mosquitto did not start; see $run_dir/mosquitto.log" >&2; exit 1; }
export MQTT_URL="${MQTT_URL:-mqtt://127.0.0.1:$mqtt_port}"
export GENERATOR_TARGET="${GENERATOR_TARGET:-mqtt}" INGEST_URL="${INGEST_URL:-http://127.0.0.1:${service_ports[ingest]}}"
# Alertmanager calls the notifier's webhook with a token only this run knows.
mkdir -p "$run_dir/alertmanager"
export NOTIFIER_WEBHOOK_TOKEN="${NOTIFIER_WEBHOOK_TOKEN:-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}"
(umask 077; printf '%s\n' "$NOTIFIER_WEBHOOK_TOKEN" >"$run_dir/alertmanager/notifier-webhook-token")
for service in "${services[@]}"; do
  PORT="${service_ports[$service]}" HOST=127.0.0.1 "$services_bin/$service" >"$run_dir/$service.out" 2>"$run_dir/$service.log" &
  pids+=($!)
done

# Prometheus and Alertmanager from Debian, with the repo's rules and routing (deploy/): the
# same files compose and Kubernetes use, with this run's addresses and, for tests, shorter
# intervals (PROMETHEUS_INTERVAL, ALERTMANAGER_GROUP_WAIT, ALERTMANAGER_GROUP_INTERVAL) and
# their own copy of the rules (PROMETHEUS_RULES_DIR).
prometheus_dir="$run_dir/prometheus"
mkdir -p "$prometheus_dir/targets"
ln -sfn "${PROMETHEUS_RULES_DIR:-$root/deploy/prometheus/rules}" "$prometheus_dir/rules"
interval="${PROMETHEUS_INTERVAL:-15s}"
sed -e "s/^  scrape_interval: .*/  scrape_interval: $interval/" -e "s/^  evaluation_interval: .*/  evaluation_interval: $interval/" \
  "$root/deploy/prometheus/prometheus.yml" >"$prometheus_dir/prometheus.yml"
for target in "${!service_ports[@]}"; do
  echo "[]" >"$prometheus_dir/targets/$target.yml"
done
for target in "${services[@]}"; do
  printf -- '- targets: ["127.0.0.1:%s"]\n' "${service_ports[$target]}" >"$prometheus_dir/targets/$target.yml"
done
printf -- '- targets: ["127.0.0.1:%s"]\n' "$prometheus_port" >"$prometheus_dir/targets/prometheus.yml"
printf -- '- targets: ["127.0.0.1:%s"]\n' "$alertmanager_port" >"$prometheus_dir/targets/alertmanager.yml"
sed -e "s#url: http://notifier:8082/#url: http://127.0.0.1:${service_ports[notifier]}/#" \
  -e "s#credentials_file: .*#credentials_file: $run_dir/alertmanager/notifier-webhook-token#" \
  -e "s/^  group_wait: .*/  group_wait: ${ALERTMANAGER_GROUP_WAIT:-30s}/" \
  -e "s/^  group_interval: .*/  group_interval: ${ALERTMANAGER_GROUP_INTERVAL:-5m}/" \
  "$root/deploy/alertmanager/alertmanager.yml" >"$run_dir/alertmanager/alertmanager.yml"
/usr/bin/prometheus-alertmanager --config.file="$run_dir/alertmanager/alertmanager.yml" \
  --storage.path="$run_dir/alertmanager/data" --web.listen-address="127.0.0.1:$alertmanager_port" \
  --cluster.listen-address= >"$run_dir/alertmanager.out" 2>"$run_dir/alertmanager.log" &
pids+=($!)
/usr/bin/prometheus --config.file="$prometheus_dir/prometheus.yml" --storage.tsdb.path="$prometheus_dir/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$run_dir/prometheus.out" 2>"$run_dir/prometheus.log" &
pids+=($!)

ready() { curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$1/${2:-readyz}"; }
for service in "${services[@]}"; do
  for _ in $(seq 150); do ready "${service_ports[$service]}" && break; sleep 0.2; done
  ready "${service_ports[$service]}" || { echo "run: $service is not ready; see $run_dir/$service.log" >&2; exit 1; }
done
for tool in prometheus alertmanager; do
  port="$prometheus_port"; [ "$tool" = alertmanager ] && port="$alertmanager_port"
  for _ in $(seq 150); do ready "$port" -/ready && break; sleep 0.2; done
  ready "$port" -/ready || { echo "run: $tool is not ready; see $run_dir/$tool.log" >&2; exit 1; }
done

cat <<INFO
Alertron is running on the embedded default (development broker; $slack).
  Kafka bootstrap     $KAFKA_BROKERS       (kcat -b $KAFKA_BROKERS -L)
  dev broker control  http://127.0.0.1:$control_port/v1/cluster
INFO
for service in "${services[@]}"; do
  printf '  %-19s http://127.0.0.1:%s  (/metrics /healthz /readyz)\n' "$service" "${service_ports[$service]}"
done
printf '  %-19s %s  (devices publish to devices/<id>/readings; the generator does, as %s)\n' mqtt "$MQTT_URL" \
  "GENERATOR_TARGET=$GENERATOR_TARGET"
printf '  %-19s http://127.0.0.1:%s  (rules from deploy/prometheus/rules)\n' prometheus "$prometheus_port"
printf '  %-19s http://127.0.0.1:%s  (routes to the notifier)\n' alertmanager "$alertmanager_port"
if [ -n "$standin" ]; then
  echo "  slack stand-in      $standin  (messages as Slack shows them: $SLACK_SINK_FILE)"
  echo "    press a button:   $shared_bin/alertron-slack-standin click --standin $standin --action ack --incident <key>"
  echo "                      (keys: grep -o '\"incident\":\"[^\"]*' $SLACK_SINK_FILE; actions: ack, silence_1h, silence_1d, not_anomaly, resolve)"
fi
echo "  logs                $run_dir/*.log"
echo "all ready; Ctrl-C stops everything"

# The live status line: what flows, from the services' own /metrics and Alertmanager's API.
metric_sum() {  # port, metric name (with an optional label filter): the sum of its samples; 0 when unreachable
  { curl -fs --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } \
    | awk -v name="$2" 'index($0, name) == 1 && substr($0, length(name) + 1, 1) ~ /[{ },]/ { total += $NF } END { printf "%d", total }'
}
# On a terminal the line is redrawn in place every STATUS_INTERVAL seconds (cut to the
# terminal's width, so it never wraps into new lines); into a file or pipe, one line every
# STATUS_LOG_INTERVAL seconds. Processes are checked every STATUS_INTERVAL either way.
show_status() {
  if [ -t 1 ]; then
    local width
    width=$(tput cols 2>/dev/null || echo 120)
    printf '\r\033[K%s' "${1:0:$(( width - 1 ))}"
  elif [ $(( now - last_printed )) -ge "${STATUS_LOG_INTERVAL:-10}" ]; then
    echo "$1"
    last_printed=$now
  fi
}
last_predictions=$(metric_sum "${service_ports[scorer]}" predictions_total)
last_time=$(date +%s)
last_printed=0
deadline=$(( last_time + ${RUN_FOR:-0} ))
while :; do
  line="status:"
  for service in "${services[@]}"; do
    if ready "${service_ports[$service]}"; then line+=" $service=ready"; else line+=" $service=NOT-READY"; fi
  done
  now=$(date +%s)
  predictions=$(metric_sum "${service_ports[scorer]}" predictions_total)
  elapsed=$(( now - last_time )); [ "$elapsed" -gt 0 ] || elapsed=1
  rate=$(( (predictions - last_predictions) / elapsed ))
  last_predictions=$predictions last_time=$now
  anomalies=$(metric_sum "${service_ports[scorer]}" anomaly_count_total)
  messages=$(metric_sum "${service_ports[notifier]}" 'alertron_notifier_messages_total{outcome="delivered"')
  firing=$({ curl -fs --max-time 2 "http://127.0.0.1:$alertmanager_port/api/v2/alerts?active=true&silenced=false&inhibited=false" \
    2>/dev/null || true; } | { grep -o '"fingerprint"' || true; } | wc -l)
  line+=" | ${rate} readings/s, ${anomalies} anomalies, ${messages} slack messages, ${firing} alerts firing"
  show_status "$line"
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo; echo "run: a process exited unexpectedly; see $run_dir/*.log" >&2; exit 1; }
  done
  [ "${RUN_FOR:-0}" -gt 0 ] && [ "$now" -ge "$deadline" ] && break
  sleep "${STATUS_INTERVAL:-2}"
done
