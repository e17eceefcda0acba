#!/usr/bin/env bash
# Checks every deployment file offline with the real tool that reads it (docker-compose,
# kubernetes-validate, yamllint, promtool, amtool, mosquitto, kubectl kustomize when
# installed) plus deploy/tools/deploycheck.py for what no tool checks. Prints ok / FAIL /
# SKIP per check, then a summary; exits 1 if any check failed. A skipped check is reported,
# never passed.
# Installs what is missing with scripts/deps.sh and keeps its Python tools in .venv-deploy/.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
kubernetes_version="${KUBERNETES_VERSION:-1.37.0}"
venv="${VALIDATE_VENV:-$root/.venv-deploy}"
requirements="deploy/tools/requirements.txt"
started=$(date +%s)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=()
failed=()
skipped=()

# check NAME COMMAND...: runs COMMAND, its output shown only when it fails.
check() {
  local name="$1"
  shift
  if "$@" >"$work/out" 2>&1; then
    echo "ok   $name"
    passed+=("$name")
  else
    echo "FAIL $name"
    sed 's/^/     /' "$work/out"
    failed+=("$name")
  fi
}

skip() {
  echo "SKIP $1 -- $2"
  skipped+=("$1 ($2)")
}

# Tools: Debian packages through deps.sh (a no-op when all are present).
if [ "${VALIDATE_SKIP_DEPS:-0}" != 1 ]; then
  scripts/deps.sh || { echo "validate-deploy: scripts/deps.sh failed" >&2; exit 1; }
fi
for tool in promtool amtool docker-compose yamllint shellcheck; do
  command -v "$tool" >/dev/null || { echo "validate-deploy: $tool is missing; run scripts/deps.sh" >&2; exit 1; }
done

# The virtualenv: created once, reinstalled when the pinned requirements change.
python="$venv/bin/python"
if [ ! -x "$python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "validate-deploy: preparing $venv (pinned: $requirements)"
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv" || { echo "validate-deploy: python3 -m venv failed (python3-venv missing?)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$requirements" \
    || { rm -rf "$venv"; echo "validate-deploy: installing $requirements from PyPI failed" >&2; exit 1; }
  cp "$requirements" "$venv/requirements.txt"
fi
deploycheck=("$python" deploy/tools/deploycheck.py)

# ---- YAML and JSON syntax
check "yamllint --strict (.yamllint) on deploy/ and .yamllint" yamllint --strict -c .yamllint deploy .yamllint
dashboards_parse() {
  local file
  for file in deploy/grafana/dashboards/*.json; do "$python" -m json.tool "$file" >/dev/null || return 1; done
}
check "dashboard JSON parses" dashboards_parse

# ---- docker compose: the file as Compose reads it, without a .env and with the example one
# (never the developer's own .env: results must not depend on it, nor print its secrets).
: >"$work/empty.env"
check "docker-compose config -q (no .env)" \
  docker-compose --env-file "$work/empty.env" -f deploy/compose/docker-compose.yml config -q
check "docker-compose config -q (.env.example)" \
  docker-compose --env-file deploy/compose/.env.example -f deploy/compose/docker-compose.yml config -q
docker-compose --env-file "$work/empty.env" -f deploy/compose/docker-compose.yml config >"$work/compose.yml" 2>"$work/compose.err" \
  || cp /dev/null "$work/compose.yml"

# ---- Prometheus: each configuration as each way of running lays it out; promtool's warnings
# (a file_sd file or rule glob that matches nothing) count as failures.
promtool_config() {
  promtool check config "$1" >"$work/promtool.out" 2>&1
  local status=$?
  cat "$work/promtool.out"
  [ "$status" -eq 0 ] && ! grep -q "WARNING" "$work/promtool.out"
}
check "promtool check config: make run (deploy/prometheus/prometheus.yml, targets/)" \
  promtool_config deploy/prometheus/prometheus.yml
mkdir -p "$work/compose-prometheus"
cp deploy/prometheus/prometheus.yml "$work/compose-prometheus/"
cp -r deploy/prometheus/rules "$work/compose-prometheus/rules"
cp -r deploy/compose/prometheus-targets "$work/compose-prometheus/targets"
check "promtool check config: compose (prometheus.yml with deploy/compose/prometheus-targets)" \
  promtool_config "$work/compose-prometheus/prometheus.yml"
check "promtool check config: Kubernetes (deploy/prometheus/prometheus-k8s.yml)" \
  promtool_config deploy/prometheus/prometheus-k8s.yml
check "promtool check rules deploy/prometheus/rules/*.yml" promtool check rules deploy/prometheus/rules/*.yml
check "promtool test rules deploy/prometheus/tests/*.yml" promtool test rules deploy/prometheus/tests/*.yml

# Every dashboard expression, Grafana variables substituted, parsed by promtool as a rule.
dashboard_promql() {
  "${deploycheck[@]}" dashboard-rules "$work/dashboard-rules.yml" && promtool check rules "$work/dashboard-rules.yml"
}
check "promtool parses every dashboard PromQL expression" dashboard_promql

# ---- Alertmanager: the configuration, and that every alert routes to the notifier.
check "amtool check-config deploy/alertmanager/alertmanager.yml" \
  amtool check-config deploy/alertmanager/alertmanager.yml
alert_routes() {
  local alert severity
  while IFS= read -r alert; do
    for severity in warning critical; do
      amtool config routes test --config.file=deploy/alertmanager/alertmanager.yml \
        --verify.receivers=notifier "alertname=$alert" "severity=$severity" || return 1
    done
  done < <(sed -n 's/^ *- alert: *//p' deploy/prometheus/rules/*.yml | sort -u)
}
check "amtool config routes test: every alert reaches the notifier receiver" alert_routes

# ---- Kubernetes: schemas (strict) for built-in kinds; custom resources are skipped by name.
if "${deploycheck[@]}" k8s-files >"$work/k8s-files" 2>&1; then
  mapfile -t manifests < <(sed -n 's/^validate //p' "$work/k8s-files")
  k8s_validate() {
    "$venv/bin/kubernetes-validate" --strict -k "$kubernetes_version" --quiet "${manifests[@]}" >"$work/kv.out" 2>&1
    local status=$?
    cat "$work/kv.out"
    # kubernetes-validate only warns (exit 0) when it has no schema for a kind: fail instead.
    [ "$status" -eq 0 ] && ! grep -Eq '^(WARN|ERROR|FATAL)' "$work/kv.out"
  }
  check "kubernetes-validate --strict -k $kubernetes_version (${#manifests[@]} files)" k8s_validate
  while IFS= read -r line; do
    skip "kubernetes-validate ${line%% -- *}" "${line#* -- }"
  done < <(sed -n 's/^skip //p' "$work/k8s-files")
else
  echo "FAIL listing Kubernetes manifests"
  sed 's/^/     /' "$work/k8s-files"
  failed+=("listing Kubernetes manifests")
fi

if command -v kubectl >/dev/null; then
  kustomize_builds() {
    kubectl kustomize deploy/k8s >"$work/kustomize-base.yaml" \
      && kubectl kustomize deploy/k8s-keda >"$work/kustomize-keda.yaml" \
      && "${deploycheck[@]}" kustomize "$work/kustomize-base.yaml" "$work/kustomize-keda.yaml"
  }
  check "kubectl kustomize deploy/k8s and deploy/k8s-keda match kubectl apply -f" kustomize_builds
else
  skip "kubectl kustomize deploy/k8s, deploy/k8s-keda" \
    "kubectl is not installed (not in Debian 12); the Kustomization resource list is still checked by deploycheck lint"
fi

# ---- Generated copies and the cross-file checks no tool makes.
check "generated Kubernetes ConfigMaps and PrometheusRule match their sources" "${deploycheck[@]}" sync --check
deploycheck_lint() {
  [ -s "$work/compose.yml" ] || { cat "$work/compose.err"; return 1; }
  "${deploycheck[@]}" lint "$work/compose.yml"
}
check "deploycheck lint: rules, tests, runbook, dashboards, metric names, manifests, compose, Dockerfile" \
  deploycheck_lint
# Surface the lint's own SKIP lines (names it could not check yet) in the summary.
grep '^SKIP ' "$work/out" | while IFS= read -r line; do echo "$line"; done
while IFS= read -r line; do skipped+=("deploycheck: ${line#SKIP }"); done < <(grep '^SKIP ' "$work/out")

# ---- Mosquitto: Debian's broker (2.0.11; the images run 2.0.20) with deploy/mosquitto's
# configuration, its paths moved into a temporary folder and its listener onto a unix socket
# (no port to collide with), and the password file write-passwords.sh makes: it must start,
# let the users in and refuse anonymous clients and wrong passwords.
mosquitto_broker() {
  local dir="$work/broker" pid status=0
  mkdir -p "$dir/data" "$dir/secrets"
  sed -e "s#^listener 1883\$#listener 0 $dir/socket#" -e "s#/mosquitto/secrets/#$dir/secrets/#" \
    -e "s#/mosquitto/data/#$dir/data/#" deploy/mosquitto/mosquitto.conf >"$dir/mosquitto.conf"
  if ! grep -qx "listener 0 $dir/socket" "$dir/mosquitto.conf" \
    || ! grep -qx "password_file $dir/secrets/passwords" "$dir/mosquitto.conf" \
    || grep -v "^#" "$dir/mosquitto.conf" | grep -q " /mosquitto/"; then
    echo "deploy/mosquitto/mosquitto.conf: expected 'listener 1883', 'password_file /mosquitto/secrets/passwords'"
    echo "and no other /mosquitto/ path than persistence_location /mosquitto/data/"
    return 1
  fi
  # As root the broker would switch to the mosquitto user, who cannot read this folder.
  [ "$(id -u)" -ne 0 ] || echo "user root" >>"$dir/mosquitto.conf"
  MQTT_INGEST_PASSWORD=check-ingest MQTT_DEVICE_PASSWORD=check-devices \
    sh deploy/mosquitto/write-passwords.sh "$dir/secrets/passwords" || return 1
  "$mosquitto" -c "$dir/mosquitto.conf" >"$dir/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    [ -S "$dir/socket" ] || ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "mosquitto exited at start"
    status=1
  else
    mosquitto_sub --unix "$dir/socket" -u ingest -P check-ingest -c -i check-ingest -q 1 \
      -t "\$share/ingest/devices/+/readings" -E || { echo "the user ingest could not subscribe"; status=1; }
    mosquitto_pub --unix "$dir/socket" -u devices -P check-devices -q 1 -t devices/check/readings -m '{}' \
      || { echo "the user devices could not publish"; status=1; }
    if mosquitto_pub --unix "$dir/socket" -q 1 -t devices/check/readings -m '{}' 2>/dev/null; then
      echo "an anonymous client was let in"
      status=1
    fi
    if mosquitto_pub --unix "$dir/socket" -u devices -P wrong -q 1 -t devices/check/readings -m '{}' 2>/dev/null; then
      echo "a wrong password was let in"
      status=1
    fi
    kill "$pid"
  fi
  wait "$pid"
  [ "$status" -eq 0 ] || sed 's/^/broker: /' "$dir/broker.log"
  return "$status"
}
mosquitto="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
if [ -x "$mosquitto" ] && command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null \
  && command -v mosquitto_passwd >/dev/null; then
  check "mosquitto starts with deploy/mosquitto/mosquitto.conf and write-passwords.sh's users, no anonymous access" \
    mosquitto_broker
else
  skip "mosquitto with deploy/mosquitto/mosquitto.conf" "mosquitto or mosquitto-clients is not installed (scripts/deps.sh)"
fi

# ---- Shell scripts of the deployment.
check "shellcheck on the deployment's shell scripts" \
  shellcheck deploy/redpanda/create-topics.sh deploy/mosquitto/write-passwords.sh scripts/validate-deploy.sh \
  scripts/check-live-queries.sh

elapsed=$(( $(date +%s) - started ))
echo
echo "validate-deploy: ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped (${elapsed}s)"
for item in "${skipped[@]}"; do echo "  skipped: $item"; done
for item in "${failed[@]}"; do echo "  FAILED:  $item"; done
[ ${#failed[@]} -eq 0 ]
