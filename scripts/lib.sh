# Shared by the scripts that start the mesh or count checks: source it after setting `root`.
# shellcheck shell=bash
: "${root:?set root (the repository folder) before sourcing scripts/lib.sh}"

# local_mosquitto_conf PORT: deploy/mosquitto/mosquitto.conf made local, on stdout: this port
# on loopback, anonymous clients (only on loopback), sessions in memory, logs to stderr.
local_mosquitto_conf() {
  sed -e "s/^listener .*/listener $1 127.0.0.1/" -e "s/^allow_anonymous .*/allow_anonymous true/" \
    -e "/^password_file /d" -e "s/^persistence .*/persistence false/" -e "/^persistence_location /d" \
    -e "s/^log_dest .*/log_dest stderr/" "$root/deploy/mosquitto/mosquitto.conf"
}

# A TCP port the kernel calls free on loopback (released at once: a small race tests accept).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Moves every port `make run` listens on to a free one, so a test runs beside a live mesh.
export_free_mesh_ports() {
  local name
  for name in BROKER_PORT DEVBROKER_CONTROL_PORT INGEST_PORT SCORER_PORT NOTIFIER_PORT GENERATOR_PORT \
    PROMETHEUS_PORT ALERTMANAGER_PORT MQTT_PORT SLACK_STANDIN_PORT; do
    export "$name=$(free_port)"
  done
}

# check COMMAND...: runs it, counts it in $passed or $failed, and names a failure.
passed=0
failed=0
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*"; fi; }

# start_mesh OUTPUT: scripts/run-local.sh in the background as its own process group, with
# SIGINT at its default (a background job starts with it ignored, which a script cannot
# trap), so `stop_mesh` acts like Ctrl-C in a terminal. Sets $mesh_pid.
start_mesh() {
  setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' "$root/scripts/run-local.sh" >"$1" 2>&1 &
  mesh_pid=$!
}

# wait_mesh_ready OUTPUT: true once run-local.sh says "all ready" (60 s at most).
wait_mesh_ready() {
  local _
  for _ in $(seq 300); do grep -q "all ready" "$1" && return 0; sleep 0.2; done
  return 1
}

# stop_mesh [PGID...]: Ctrl-C to the mesh, up to 15 s for it to stop its processes, then
# SIGKILL to whatever is left in its process group and in the other groups named.
stop_mesh() {
  local _ group
  [ -n "${mesh_pid:-}" ] || return 0
  kill -INT "$mesh_pid" 2>/dev/null
  for _ in $(seq 150); do kill -0 "$mesh_pid" 2>/dev/null || break; sleep 0.1; done
  for group in "$mesh_pid" "$@"; do kill -KILL -- "-$group" 2>/dev/null; done
  wait 2>/dev/null
  return 0
}

# For the benchmarks: the release binaries' folders, a work folder, and on exit every process
# in $pids stopped and the folder removed. Sets shared_bin, services_bin, work and pids.
bench_workspace() {
  shared_bin="$root/shared/.build/release"
  services_bin="$root/.build-services/release"
  work="$(mktemp -d)"
  pids=()
  trap stop_bench EXIT
}

stop_bench() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# start_bench_ingest [NAME=VALUE...]: the development broker and ingest (with that environment)
# on free ports in the bench workspace, waited for on /readyz. Sets ingest_port.
start_bench_ingest() {
  local binary
  for binary in "$shared_bin/alertron-devbroker" "$services_bin/ingest"; do
    [ -x "$binary" ] || { echo "bench: $binary is missing; run 'make build' first" >&2; exit 1; }
  done
  ingest_port=$(free_port)
  "$shared_bin/alertron-devbroker" --listen "127.0.0.1:$(free_port)" --control "127.0.0.1:$(free_port)" \
    --bootstrap-file "$work/bootstrap" >/dev/null 2>"$work/devbroker.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
  env KAFKA_BROKERS="$(cat "$work/bootstrap")" PORT="$ingest_port" HOST=127.0.0.1 LOG_LEVEL=warning "$@" \
    "$services_bin/ingest" >/dev/null 2>"$work/ingest.log" &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ingest_port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$ingest_port/readyz" >/dev/null \
    || { echo "bench: ingest did not get ready" >&2; cat "$work/ingest.log" >&2; exit 1; }
}
