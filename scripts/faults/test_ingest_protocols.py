"""Log shippers' protocols against the real ingest binary, with clients nobody here wrote: the
OpenTelemetry Python SDK's OTLP/HTTP protobuf exporter (plain, gzip and deflate); curl posting an
OTLP/HTTP JSON export and a Loki JSON push (payloads/, written in the shapes the OTLP JSON
encoding and Loki's push API document), plain and compressed by Debian's gzip, and a gzip bomb.
What reaches `readings` is read back with kcat."""
import json
import os
import subprocess

import harness
from harness import metric_sum

PAYLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "payloads")


def post(port, path, payload, content_type="application/json", gzip=False):
    """(status, body) of curl POSTing the file `payload` (gzip-compressed on the way when asked)."""
    with open(payload, "rb") as f:
        data = f.read()
    headers = ["-H", f"Content-Type: {content_type}"]
    if gzip:
        data = subprocess.run(["gzip", "-c"], input=data, capture_output=True, check=True).stdout
        headers += ["-H", "Content-Encoding: gzip"]
    result = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", *headers, "--data-binary", "@-",
                             f"http://127.0.0.1:{port}{path}"], input=data, capture_output=True, check=True, timeout=60)
    body, _, status = result.stdout.rpartition(b"\n")
    return int(status), body.decode()


def test_log_shippers_protocols(mesh):
    port = harness.free_port()
    mesh.start_broker()
    ingest = mesh.start_service("ingest", "ingest", port, INGEST_MAX_BODY_BYTES=1 << 20)
    mesh.wait_ready(ingest, port)
    otlp, loki = os.path.join(PAYLOADS, "otlp-logs.json"), os.path.join(PAYLOADS, "loki-push.json")

    assert post(port, "/v1/logs", otlp) == (200, "{}")
    assert post(port, "/v1/logs", otlp, gzip=True) == (200, "{}")
    assert post(port, "/loki/api/v1/push", loki) == (204, "")
    assert post(port, "/loki/api/v1/push", loki, gzip=True) == (204, "")
    status, body = post(port, "/v1/logs", otlp, content_type="application/x-protobuf")
    assert status == 400 and "not an OTLP ExportLogsServiceRequest" in body, body

    # 64 MiB of zeros, about 64 KiB compressed: refused by its inflated size, and ingest lives on.
    bomb = os.path.join(mesh.directory, "bomb.gz")
    subprocess.run(f"head -c {64 << 20} /dev/zero | gzip -c > {bomb}", shell=True, check=True)
    assert os.path.getsize(bomb) < 200_000
    result = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json",
                             "-H", "Content-Encoding: gzip", "--data-binary", f"@{bomb}", f"http://127.0.0.1:{port}/v1/readings"],
                            capture_output=True, check=True, timeout=60)
    body, _, status = result.stdout.rpartition(b"\n")
    assert int(status) == 413 and b"inflates to more than 1048576 bytes" in body, result.stdout[-300:]
    assert ingest.alive() and harness.http_status(f"http://127.0.0.1:{port}/healthz") == 200

    lines = [json.loads(value) for _, _, value in mesh.read_topic("readings")]
    assert len(lines) == 12, f"3 OTLP records and 3 Loki lines, twice each: {len(lines)} arrived"
    by_message = {line["message"]: line for line in lines}
    payment = by_message["payment failed: card processor unreachable after 3 retries"]
    assert (payment["source"], payment["level"], payment["ts"]) == ("checkout", "ERROR", "2024-12-07T19:33:20.000Z")
    kvlist = next(line for line in lines if line["message"] == '{"order":"A-1042","state":"paid"}')
    assert kvlist["level"] == "INFO" and kvlist["ts"] == "2024-12-07T19:33:21.000Z", kvlist
    assert by_message["stock level below threshold for SKU 8812"]["source"] == "inventory"
    panic = next(line for line in lines if line["message"].startswith("PANIC:"))
    assert (panic["source"], panic["level"], panic["ts"]) == ("postgres", "error", "2024-12-07T19:33:20.500Z")
    nginx = next(line for line in lines if "kube-probe" in line["message"])
    assert nginx["source"] == "nginx" and "level" not in nginx
    assert sum(1 for line in lines if line["kind"] == "log") == 12

    requests = "alertron_ingest_requests_total"
    assert metric_sum(port, requests, {"route": "/loki/api/v1/push", "status": "204"}) == 2
    assert metric_sum(port, requests, {"route": "/v1/logs", "status": "200"}) == 2
    assert metric_sum(port, requests, {"route": "/v1/readings", "status": "413"}) == 1


def test_opentelemetry_sdk_exports_logs_over_otlp_protobuf(mesh, clients_python):
    port = harness.free_port()
    mesh.start_broker()
    ingest = mesh.start_service("ingest", "ingest", port)
    mesh.wait_ready(ingest, port)
    client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "otel_client.py")
    for compression, service in (("none", "checkout"), ("gzip", "checkout-gz"), ("deflate", "checkout-deflate")):
        result = subprocess.run([clients_python, client, f"http://127.0.0.1:{port}/v1/logs", "500", compression, service],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{compression}: {result.stdout[-1000:]}{result.stderr[-2000:]}"
        print(f"  {compression}: {result.stdout.strip().splitlines()[-1]}")

    lines = [json.loads(value) for _, _, value in mesh.read_topic("readings")]
    assert len(lines) == 1500, f"500 records three times: {len(lines)} arrived"
    for service in ("checkout", "checkout-gz", "checkout-deflate"):
        mine = [line for line in lines if line["source"] == service]
        assert len(mine) == 500, f"{service}: {len(mine)}"
        errors = [line for line in mine if line["level"] == "ERROR"]
        assert len(errors) == 50 and all("card processor unreachable" in line["message"] for line in errors)
        assert sum(1 for line in mine if line["level"] == "INFO") == 450
        assert {line["message"] for line in mine} == {
            f"payment {n} failed: card processor unreachable" if n % 10 == 0 else f"payment {n} authorised"
            for n in range(500)}
    assert metric_sum(port, "alertron_ingest_requests_total", {"route": "/v1/logs", "status": "200"}) >= 9

