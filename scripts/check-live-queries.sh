#!/usr/bin/env bash
# Evaluates every alert/recording rule and every Grafana dashboard expression against a
# running Prometheus that scrapes the services with deploy/prometheus (e.g. under make run),
# through its HTTP API; fails on any query error, a rule not loaded or unhealthy, a service
# target down, or a per-service panel without data (--warn-only: report those only).
# Also runs `promtool check metrics` on each service's /metrics.
#   scripts/check-live-queries.sh [--warn-only] [--rate-interval 1m] [--window 900] \
#     [--strict-metrics] http://127.0.0.1:9090
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "${PYTHON:-python3}" "$root/deploy/tools/livecheck.py" "$@"
