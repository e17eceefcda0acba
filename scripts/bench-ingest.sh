#!/usr/bin/env bash
# Ingest under load from wrk (Debian's HTTP load client), on the development broker, release
# build. The baseline, measured in the same run with the same client and connections, is
# ingest's own /healthz: an HTTP round trip with no parsing and no Kafka. Figures go in
# BENCHMARKS.md. Usage: scripts/bench-ingest.sh (after make build), DURATION=10 by default.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib.sh"
duration="${DURATION:-10}"
command -v wrk >/dev/null || { echo "bench-ingest: wrk is missing (make deps installs it)" >&2; exit 1; }
bench_workspace
# shellcheck disable=SC2119  # no extra environment for ingest
start_bench_ingest

reading='{"device_id":"edge-1","temperature":21.5,"pressure":1013.2,"vibration":0.021}'
# One request body per wrk script; `delay` paces each connection for the fixed-rate run.
write_script() { # file, method, content type, body file, delay ms[, content encoding]
  local encoding=""
  [ -z "${6:-}" ] || encoding="wrk.headers[\"Content-Encoding\"] = \"$6\""
  cat >"$1" <<EOF
wrk.method = "$2"
wrk.headers["Content-Type"] = "$3"
$encoding
local f = io.open("$4", "rb"); wrk.body = f:read("*a"); f:close()
function delay() return $5 end
EOF
}
printf '%s' "$reading" >"$work/one.json"
for i in $(seq 1000); do
  printf '{"device_id":"edge-%d","temperature":%d.5,"pressure":1013.2,"vibration":0.021}\n' $((i % 50)) $((18 + i % 8))
done >"$work/batch.ndjson"
: >"$work/empty"
write_script "$work/health.lua" GET text/plain "$work/empty" 0
write_script "$work/one.lua" POST application/json "$work/one.json" 0
write_script "$work/batch.lua" POST application/x-ndjson "$work/batch.ndjson" 0
write_script "$work/paced.lua" POST application/json "$work/one.json" 10
# The same 1000 log lines in each way a log shipper sends them: Alertron's NDJSON (plain and
# gzip), an OTLP/HTTP export (protobuf, as the SDKs send it, and JSON), and a Loki push.
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
lines = [(f"db-{n % 20}", "ERROR" if n % 10 == 0 else "INFO",
          f"checkpoint complete: wrote {n} buffers ({n % 97}.{n % 10}%); write={n % 13}.{n % 1000:03d} s") for n in range(1000)]
with open(f"{work}/logs.ndjson", "w") as f:
    for source, level, message in lines:
        f.write(json.dumps({"source": source, "message": message, "level": level}) + "\n")
def field(number, payload):
    size, length = len(payload), b""
    while size >= 0x80:
        length += bytes([size & 0x7F | 0x80]); size >>= 7
    return bytes([number << 3 | 2]) + length + bytes([size]) + payload
resources, otlp_json, streams = b"", [], []
for s in range(20):
    mine = [(level, message) for source, level, message in lines if source == f"db-{s}"]
    records = b"".join(field(2, b"\x09" + (1733600000000000000 + i).to_bytes(8, "little") + b"\x10" + bytes([17 if level == "ERROR" else 9])
                               + field(3, level.encode()) + field(5, field(1, message.encode()))) for i, (level, message) in enumerate(mine))
    resources += field(1, field(1, field(1, field(1, b"service.name") + field(2, field(1, f"db-{s}".encode())))) + field(2, records))
    otlp_json.append({"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": f"db-{s}"}}]},
                      "scopeLogs": [{"logRecords": [{"timeUnixNano": str(1733600000000000000 + i), "severityText": level,
                                                     "body": {"stringValue": message}} for i, (level, message) in enumerate(mine)]}]})
    streams.append({"stream": {"job": f"db-{s}"}, "values": [[str(1733600000000000000 + i), message] for i, (level, message) in enumerate(mine)]})
open(f"{work}/logs.otlp", "wb").write(resources)
json.dump({"resourceLogs": otlp_json}, open(f"{work}/logs.otlp.json", "w"))
json.dump({"streams": streams}, open(f"{work}/logs.loki.json", "w"))
PY
gzip -c "$work/logs.ndjson" >"$work/logs.ndjson.gz"
write_script "$work/logs.lua" POST application/x-ndjson "$work/logs.ndjson" 0
write_script "$work/logs-gzip.lua" POST application/x-ndjson "$work/logs.ndjson.gz" 0 gzip
write_script "$work/otlp.lua" POST application/x-protobuf "$work/logs.otlp" 0
write_script "$work/otlp-json.lua" POST application/json "$work/logs.otlp.json" 0
write_script "$work/loki.lua" POST application/json "$work/logs.loki.json" 0

# Runs wrk; prints "requests/s p50 p99 non-2xx" with latencies in ms.
run() { # script, uri, connections
  wrk -t2 -c"$3" -d"${duration}s" --latency -s "$1" "http://127.0.0.1:$ingest_port$2" >"$work/wrk.out" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /Requests\/sec/ { rate = $2 } /Non-2xx/ { bad = $5 }
    END { printf "%.0f %.2f %.2f %d\n", rate, p50, p99, bad }' "$work/wrk.out"
}

report() { # name, "rate p50 p99 bad", unit multiplier, note
  read -r rate p50 p99 bad <<<"$2"
  printf "%-34s %10.0f %s/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %d  %s\n" "$1" "$((rate * $3))" "$4" "$p50" "$p99" "$bad" "$5"
}

health=$(run "$work/health.lua" /healthz 64)
report "ingest.baseline-healthz" "$health" 1 requests "baseline: GET /healthz, no parsing, no Kafka; 64 connections"
single=$(run "$work/one.lua" /v1/readings 64)
ratio=$(awk -v a="${single%% *}" -v b="${health%% *}" 'BEGIN { printf "%.2f", a / b }')
report "ingest.single-reading" "$single" 1 requests "${ratio}x baseline; one reading per request, 202 after the broker's ack; 64 connections"
batch=$(run "$work/batch.lua" /v1/readings 16)
report "ingest.ndjson-1000" "$batch" 1000 readings "1000-reading NDJSON per request; 16 connections"
paced=$(run "$work/paced.lua" /v1/readings 64)
report "ingest.paced-single" "$paced" 1 requests "64 connections each pausing 10 ms between requests (about 5k/s offered)"
logs=$(run "$work/logs.lua" /v1/logs 16)
report "ingest.logs-ndjson-1000" "$logs" 1000 lines "1000 log lines of Alertron NDJSON per request ($(wc -c <"$work/logs.ndjson") B); 16 connections"
for way in logs-gzip:/v1/logs:"the same NDJSON gzip-compressed ($(wc -c <"$work/logs.ndjson.gz") B)" \
  otlp:/v1/logs:"the same lines as an OTLP/HTTP protobuf export ($(wc -c <"$work/logs.otlp") B)" \
  otlp-json:/v1/logs:"the same as an OTLP/HTTP JSON export ($(wc -c <"$work/logs.otlp.json") B)" \
  loki:/loki/api/v1/push:"the same as a Loki JSON push ($(wc -c <"$work/logs.loki.json") B)"; do
  IFS=: read -r name uri note <<<"$way"
  figures=$(run "$work/$name.lua" "$uri" 16)
  ratio=$(awk -v a="${figures%% *}" -v b="${logs%% *}" 'BEGIN { printf "%.2f", a / b }')
  report "ingest.$name-1000" "$figures" 1000 lines "${ratio}x the NDJSON lines; $note"
done
echo "ingest: $(grep -c '"level":"error"' "$work/ingest.log" || true) error lines in its log"
