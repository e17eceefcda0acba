#!/usr/bin/env bash
# Installs the Debian packages Alertron builds and tests with, and nothing else; a fast
# no-op when all are present. Uses sudo when not root.
set -euo pipefail

packages=(
  pkg-config          # SwiftPM finds librdkafka through it
  librdkafka-dev      # the Kafka client (and its mock cluster, the development broker)
  libcurl4-openssl-dev libnghttp2-dev  # FoundationNetworking (HTTP clients, Slack)
  zlib1g-dev          # ingest inflates gzip- and deflate-encoded request bodies
  kcat                # an outside Kafka client: tests and the Kafka benchmark's baseline
  prometheus prometheus-alertmanager   # real Prometheus and Alertmanager for tests and make run
  mosquitto mosquitto-clients  # the MQTT broker ingest subscribes to (tests, make run) and its CLI clients
  curl                # scripts talk to the services' HTTP endpoints
  wrk                 # the HTTP load client of the ingest benchmark
  bc                  # the MQTT benchmark's rates and ratios
  docker-compose      # validate-deploy: `docker-compose config -q` checks the compose file offline
  yamllint            # validate-deploy: every YAML file against the project's .yamllint
  python3-venv        # validate-deploy: its virtualenv with kubernetes-validate (from PyPI)
  shellcheck          # validate-deploy: the deployment's shell scripts
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v swift >/dev/null 2>&1; then
  echo "deps: the Swift toolchain is not on PATH; install Swift 6 (swift.org) first" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}"
$sudo apt-get update -qq
# policy-rc.d may forbid starting the packaged daemons; we start our own instances.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
