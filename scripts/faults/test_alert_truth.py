"""What the real Prometheus sees of Alertron's metrics, with the origin project's producer,
dashboard and rule plugged in unchanged:

- every metric a dashboard or rule reads exists from start-up, before any event;
- the origin producer's messages, written straight to `readings`, are scored;
- a burst from devices never seen before raises HighAnomalyRate (a counter series born with its
  value is invisible to increase(): promtool unit tests cannot show this, a scrape can);
- each of the origin dashboard's and README's expressions returns data.

    python3 -m pytest -s scripts/faults -k truth
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import harness
from harness import binary, free_port, wait_until

sys.path.insert(0, os.path.join(harness.ROOT, "deploy", "tools"))
import dashboards  # noqa: E402

RULES = pathlib.Path(harness.ROOT, "deploy", "prometheus", "rules")
DASHBOARDS = sorted(pathlib.Path(harness.ROOT, "deploy", "grafana", "dashboards").glob("*.json"))

# The origin project's own expressions, as its dashboard, README and alert rule wrote them.
ORIGIN_DASHBOARD = [
    "sum(increase(anomaly_count_total[5m]))",
    "rate(predictions_total[1m])",
    "1000 * histogram_quantile(0.95, sum by (le)(rate(inference_latency_seconds_bucket[5m])))",
    "100 * (sum(rate(kafka_errors_total[5m])) / clamp_min(sum(rate(kafka_messages_consumed_total[5m])), 1))",
    "sum by (severity) (increase(anomaly_count_total[1m]))",
    "topk(5, sum by (device_id)(increase(anomaly_count_total[5m])))",
]
ORIGIN_README = ["sum(increase(anomaly_count_total[1m]))"]
ORIGIN_RULE = "sum(increase(anomaly_count_total[5m])) > 50"


def rule_expressions(text):
    """Every `expr:` of a rules file, one line or a block (read without a YAML library)."""
    expressions, lines = [], text.splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^(\s+)expr:\s*(.*)$", line)
        if not match:
            continue
        if match.group(2) not in ("|", ">", ""):
            expressions.append(match.group(2))
            continue
        block = []
        for following in lines[number + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= len(match.group(1)):
                break
            block.append(following.strip())
        expressions.append(" ".join(block))
    return expressions


def metric_names_by_job():
    """The metric names each job must export, as the rules and dashboards read them: per-service
    rows name their job; other names belong to the service their prefix (or the origin project's
    scorer metrics) names; the rest (kafka_*, process_*) to some job ("any")."""
    services = dashboards.SERVICES
    origin_scorer = {"anomaly_count_total", "last_anomaly_score", "inference_latency_seconds", "predictions_total",
                     "log_severity_total"}

    def jobs_of(name):
        for service in services:
            if name.startswith(f"alertron_{service}_"):
                return [service]
        if re.sub(r"_bucket$", "", name) in origin_scorer:
            return ["scorer"]
        return ["any"]

    wanted = {service: set() for service in services + ("any",)}
    expressions = [(None, expr) for path in RULES.glob("*.yml") for expr in rule_expressions(path.read_text())]
    for path in DASHBOARDS:
        for target in dashboards.targets(dashboards.load(path)):
            expressions.append((target["service"], dashboards.substitute(target["expr"])))
    for service, expr in expressions:
        for name in dashboards.metric_names(expr):
            if ":" in name or name in ("up", "ALERTS", "ALERTS_FOR_STATE"):
                continue
            for job in ([service] if service else jobs_of(name)):
                wanted[job].add(name)
    return wanted


def exported(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    names, series = set(), set()
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        sample = line.rsplit(" ", 1)[0]
        series.add(sample)
        names.add(sample.split("{")[0])
    return names, series


class Prometheus:
    """The real Prometheus (Debian's binary) scraping one scorer every second, with the repo's
    rules, time compressed as the end-to-end test does: [5m] windows become [20s], every `for:` 5s."""

    def __init__(self, mesh, scorer_port):
        directory = pathlib.Path(mesh.directory, "prometheus")
        (directory / "targets").mkdir(parents=True)
        (directory / "rules").mkdir()
        for path in RULES.glob("*.yml"):
            text = re.sub(r"\[5m\]", "[20s]", path.read_text())
            (directory / "rules" / path.name).write_text(re.sub(r"(?m)^( +)for: .*", r"\1for: 5s", text))
        config = pathlib.Path(harness.ROOT, "deploy", "prometheus", "prometheus.yml").read_text()
        config = re.sub(r"(?m)^  (scrape|evaluation)_interval: .*", r"  \1_interval: 1s", config)
        (directory / "prometheus.yml").write_text(config)
        for job in ("ingest", "notifier", "generator", "prometheus", "alertmanager"):
            (directory / "targets" / f"{job}.yml").write_text("[]\n")
        (directory / "targets" / "scorer.yml").write_text(f'- targets: ["127.0.0.1:{scorer_port}"]\n')
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = mesh.start("prometheus", [shutil.which("prometheus") or "/usr/bin/prometheus",
                                                 f"--config.file={directory / 'prometheus.yml'}",
                                                 f"--storage.tsdb.path={directory / 'data'}",
                                                 f"--web.listen-address=127.0.0.1:{self.port}"])
        assert wait_until(lambda: harness.http_status(self.url + "/-/ready") == 200, 30), "Prometheus ready"

    def query(self, expr):
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as response:
            payload = json.loads(response.read())
        assert payload["status"] == "success", f"{expr}: {payload}"
        return payload["data"]["result"]

    def value(self, expr):
        """The sum of an instant query's samples, or None when it returns nothing."""
        result = self.query(expr)
        return sum(float(sample["value"][1]) for sample in result) if result else None

    def label_values(self, label, metric):
        url = self.url + f"/api/v1/label/{label}/values?" + urllib.parse.urlencode({"match[]": metric})
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())["data"]


def origin_message(device, features, ts):
    return {"device_id": device, "features": features, "ts": ts}


def produce_origin(mesh, messages):
    """As the origin's producer does: JSON straight onto `readings`, keyed by device."""
    lines = "".join(f"{m['device_id']}\t{json.dumps(m)}\n" for m in messages)
    subprocess.run(["kcat", "-b", mesh.brokers, "-P", "-t", "readings", "-K", "\t"], input=lines.encode(),
                   check=True, timeout=60)


def test_every_metric_the_dashboards_and_rules_read_exists_at_start(mesh):
    """Each service, ready and before any event, exports every metric name the rules and
    dashboards read of it, and the series whose labels can be known."""
    mesh.start_broker()
    ports = {name: free_port() for name in dashboards.SERVICES}
    processes = {
        "scorer": mesh.start_service("scorer", "scorer", ports["scorer"]),
        "notifier": mesh.start_service("notifier", "notifier", ports["notifier"],
                                       SLACK_SINK_FILE=os.path.join(mesh.directory, "slack.jsonl")),
        "ingest": mesh.start_service("ingest", "ingest", ports["ingest"]),
    }
    for name, process in processes.items():
        mesh.wait_ready(process, ports[name])
    # Scraped before the generator starts: nothing has flowed yet.
    found = {name: exported(ports[name]) for name in processes}
    processes["generator"] = mesh.start(
        "generator", [binary("generator"), "--target", "http", "--ingest-url", f"http://127.0.0.1:{ports['ingest']}",
                      "--rate", "1"], mesh.service_env(ports["generator"]))
    mesh.wait_ready(processes["generator"], ports["generator"])
    found["generator"] = exported(ports["generator"])

    found["any"] = (set().union(*(names for names, _ in found.values())), set())
    wanted = metric_names_by_job()
    missing = {job: sorted(names - found[job][0]) for job, names in wanted.items()}
    for job, names in missing.items():
        print(f"  {job}: {len(wanted[job])} names read by rules and dashboards, missing {names}")
    assert not any(missing.values()), f"read by rules or dashboards but not exported at start: {missing}"

    scorer_series = found["scorer"][1]
    for series in ['anomaly_count_total{severity="critical",device_id="_other"}',
                   'anomaly_count_total{severity="warning",device_id="_other"}',
                   'alertron_scorer_dead_letters_total{reason="malformed_json"}',
                   'kafka_messages_consumed_total{topic="readings"}',
                   'alertron_kafka_produced_messages_total{topic="scored"}',
                   'kafka_errors_total']:
        assert series in scorer_series, f"scorer: {series} is not exported at start"
    assert 'alertron_notifier_dead_letters_total{reason="invalid_payload"}' in found["notifier"][1]
    assert 'alertron_ingest_requests_total{route="/v1/readings",status="400"}' in found["ingest"][1]


def test_a_burst_from_new_devices_fires_high_anomaly_rate(mesh):
    """The origin producer's shape straight onto Kafka: a calm stream from five devices, then 120
    faulty readings at once from 12 devices never seen before. The real Prometheus must see all of
    them in increase(), HighAnomalyRate must fire, and every origin expression must return data."""
    mesh.start_broker()
    port = free_port()
    scorer = mesh.start_service("scorer", "scorer", port)
    mesh.wait_ready(scorer, port)
    prometheus = Prometheus(mesh, port)

    # The calm stream: the make-run fleet's normal (about 22 °C, 1010 hPa, 0.025 g), 10 a second.
    stop = threading.Event()

    def calm():
        sequence = 0
        while not stop.is_set():
            produce_origin(mesh, [origin_message(f"calm-{d}", [22.0 + 0.1 * (sequence % 3), 1010.0 + (sequence % 2),
                                                               0.025], time.time()) for d in range(5)])
            sequence += 1
            stop.wait(0.5)

    thread = threading.Thread(target=calm, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: (prometheus.value('predictions_total{job="scorer"}') or 0) > 20, 60)
        time.sleep(3)
        assert not prometheus.query('ALERTS{alertname="HighAnomalyRate"}'), "HighAnomalyRate before the burst"

        burst = [origin_message(f"edge-{d}", [75.3 + n * 0.1, 133.0, 0.89], time.time())
                 for d in range(1, 13) for n in range(10)]
        produce_origin(mesh, burst)
        burst_at = time.monotonic()
        assert wait_until(lambda: harness.metric_sum(port, "anomaly_count_total") >= 120, 60)
        print(f"  figure: /metrics counts {harness.metric_sum(port, 'anomaly_count_total')} anomalies "
              f"{time.monotonic() - burst_at:.1f} s after the burst")

        def fired():
            return bool(prometheus.query('ALERTS{alertname="HighAnomalyRate",alertstate="firing"}'))
        assert wait_until(fired, 60), "HighAnomalyRate fires"
        print(f"  figure: HighAnomalyRate firing {time.monotonic() - burst_at:.1f} s after the burst")

        seen = prometheus.value("sum(increase(anomaly_count_total[5m]))")
        print(f"  figure: sum(increase(anomaly_count_total[5m])) = {seen:.0f} for 120 anomalous readings")
        assert seen >= 100, "increase() sees the burst of devices whose series are new"
        assert prometheus.query(ORIGIN_RULE), f"the origin's rule {ORIGIN_RULE!r} holds"

        for expr in ORIGIN_DASHBOARD + ORIGIN_README:
            assert prometheus.query(expr), f"origin expression returns no data: {expr}"
        devices = prometheus.label_values("device_id", "last_anomaly_score")
        assert {f"edge-{d}" for d in range(1, 13)} <= set(devices), f"label_values(last_anomaly_score, device_id): {devices}"
        score = prometheus.value('last_anomaly_score{device_id=~"edge-7"}')
        assert score and score > 0, "the device picker's panel shows the device's last anomaly score"
    finally:
        stop.set()
        thread.join()

    # The origin's messages were scored, each under an id from where it is stored; none dead-lettered.
    scored = [json.loads(value) for _, _, value in mesh.read_topic("scored")]
    burst_scored = [event for event in scored if event["device_id"].startswith("edge-")]
    assert len(burst_scored) == 120 and all(event["anomaly"] for event in burst_scored)
    assert all(re.fullmatch(r"readings-\d+-\d+", event["id"]) for event in burst_scored)
    assert not mesh.read_topic("readings.dlq"), "no origin message dead-lettered"
    assert harness.metric_sum(port, "alertron_scorer_origin_readings_total") == len(scored)
