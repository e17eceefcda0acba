"""Devices over MQTT against the real ingest binary and Debian's real mosquitto broker, with
clients nobody here wrote: mosquitto_pub (SenML, plain channels, Alertron's JSON, a log line, and
payloads ingest must dead-letter), and paho-mqtt (PyPI) publishing a stream at QoS 1 while ingest
is killed with SIGKILL and started again: nothing published may be missing from `readings`.
What reaches the topics is read back with kcat."""
import json
import os
import subprocess
import time

import harness
from harness import metric_sum

USER = ("ingest", "s3cret-pw")
READINGS_FILTER = {"filter": "devices/+/readings"}


def publish(port, topic, payload, user=USER):
    """mosquitto_pub at QoS 1; its exit status (0: the broker acknowledged the message)."""
    auth = ["-u", user[0], "-P", user[1]] if user else []
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-m", payload,
                           *auth], capture_output=True, text=True, timeout=30).returncode


def test_mqtt_payloads_and_dead_letters(mesh):
    port = harness.free_port()
    mesh.start_broker()
    mqtt_port, url = mesh.start_mosquitto(user=USER)
    ingest = mesh.start_service("ingest", "ingest", port, MQTT_URL=url)
    mesh.wait_ready(ingest, port)
    assert metric_sum(port, "alertron_ingest_mqtt_connected") == 1

    senml = [{"bn": "pump-1/", "bt": 1733600000, "n": "flow", "u": "l/min", "v": 12.5}, {"n": "pressure", "v": 2.25}]
    published = {
        "devices/pump-1/readings": json.dumps(senml),
        "devices/pump-2/readings": '{"flow": 3.5, "vibration": 0.25}',
        "devices/pump-3/readings": json.dumps({"id": "mqtt-alertron-1", "device_id": "pump-30", "temperature": 20.5,
                                               "pressure": 1.0, "vibration": 0.1}),
        "devices/gw-1/logs": "kernel: EXT4-fs error (device sda1): unable to read inode block\n",
        "devices/pump-4/readings": "flow=3.5",
        "devices/pump-5/readings": '{"flow": "high"}',
    }
    for topic, payload in published.items():
        assert publish(mqtt_port, topic, payload) == 0, topic
    assert publish(mqtt_port, "devices/pump-1/readings", "{}", user=None) != 0, "anonymous clients are refused"

    assert harness.wait_until(lambda: metric_sum(port, "alertron_ingest_mqtt_messages_total") >= 6, 20)
    events = {json.loads(value).get("device_id") or json.loads(value).get("source"): json.loads(value)
              for _, _, value in mesh.read_topic("readings")}
    assert set(events) == {"pump-1", "pump-2", "pump-30", "gw-1"}, events
    assert events["pump-1"]["values"] == {"flow": 12.5, "pressure": 2.25}
    assert events["pump-1"]["ts"] == "2024-12-07T19:33:20.000Z"
    assert events["pump-2"]["values"] == {"flow": 3.5, "vibration": 0.25}
    assert events["pump-30"]["id"] == "mqtt-alertron-1" and events["pump-30"]["temperature"] == 20.5
    assert events["gw-1"]["kind"] == "log"
    assert events["gw-1"]["message"] == "kernel: EXT4-fs error (device sda1): unable to read inode block"

    dead = {json.loads(value)["source"]["topic"]: json.loads(value) for _, _, value in mesh.read_topic("readings.dlq")}
    assert set(dead) == {"mqtt:devices/pump-4/readings", "mqtt:devices/pump-5/readings"}, dead
    for topic, letter in dead.items():
        assert letter["reason"].startswith(f"MQTT topic '{topic[5:]}': "), letter["reason"]
        assert letter["rejected_by"] == "ingest" and letter["payload"] == published[topic[5:]]
    print(f"  dead letters: {[letter['reason'] for letter in dead.values()]}")

    counted = "alertron_ingest_mqtt_messages_total"
    assert metric_sum(port, counted, {**READINGS_FILTER, "outcome": "produced"}) == 3
    assert metric_sum(port, counted, {**READINGS_FILTER, "outcome": "dead_lettered"}) == 2
    assert metric_sum(port, counted, {"filter": "devices/+/logs", "outcome": "produced"}) == 1
    assert metric_sum(port, "alertron_ingest_dead_letters_total") == 2
    assert metric_sum(port, "alertron_ingest_dead_letters_total", {"reason": "malformed_json"}) == 1


def fleet(python, url, run, count, rate):
    return subprocess.Popen(
        [python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mqtt_fleet.py"), url, run, str(count),
         str(rate)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kafka_down_then_ingest_killed_loses_no_mqtt_message(mesh, clients_python):
    """Kafka is unreachable: ingest takes 200 readings from the broker and cannot deliver them.
    It is killed (SIGKILL); Kafka comes up; a new ingest under the same client id gets every one
    of them again from the broker's persistent session, because none was acknowledged."""
    run, count = f"mqttdown{os.getpid()}", 200
    port, kafka_port = harness.free_port(), harness.free_port()
    mqtt_port, url = mesh.start_mosquitto()
    env = {"MQTT_URL": url, "MQTT_TOPICS": "devices/+/readings", "KAFKA_BROKERS": f"127.0.0.1:{kafka_port}"}
    mesh.brokers = f"127.0.0.1:{kafka_port}"
    first = mesh.start("ingest-a", [harness.binary("ingest")], mesh.service_env(port, **env))
    assert harness.wait_until(lambda: metric_sum(port, "alertron_ingest_mqtt_connected") == 1, 30), first.log_tail()
    publisher = fleet(clients_python, url, run, count, 400)
    out, err = publisher.communicate(timeout=60)
    assert publisher.returncode == 0, f"the fleet: {out}{err[-2000:]}"
    assert harness.wait_until(lambda: "not acknowledged by Kafka" in open(first.log_path).read(), 30), first.log_tail()
    assert metric_sum(port, "alertron_ingest_mqtt_messages_total") == 0
    first.kill()
    print(f"  {count} readings published while Kafka was down; ingest killed (SIGKILL) while retrying")

    mesh.start_broker(port=kafka_port)
    second = mesh.start("ingest-b", [harness.binary("ingest")], mesh.service_env(port, **env))
    mesh.wait_ready(second, port)
    summary = mesh.ids("readings", harness.run_ids(run, count), wait=60)
    print(f"  readings: {summary.unique} of {count} ids, {summary.duplicates} duplicates")
    assert summary.missing == 0, f"missing after the outage and the kill, e.g. {summary.missing_sample}"


def test_ingest_killed_mid_stream_loses_no_mqtt_message(mesh, clients_python):
    """paho-mqtt publishes 3000 readings at QoS 1; ingest is killed (SIGKILL) mid-stream and
    started again a second later under the same client id. The broker kept the persistent
    session and what arrived meanwhile: every reading published reaches `readings`."""
    run, count, rate = f"mqttkill{os.getpid()}", 3000, 400
    port = harness.free_port()
    mesh.start_broker()
    mqtt_port, url = mesh.start_mosquitto()
    env = {"MQTT_URL": url, "MQTT_TOPICS": "devices/+/readings"}
    first = mesh.start(
        "ingest-a", [harness.binary("ingest")], mesh.service_env(port, **env))
    mesh.wait_ready(first, port)
    publisher = fleet(clients_python, url, run, count, rate)
    try:
        assert harness.wait_until(lambda: metric_sum(port, "alertron_ingest_mqtt_messages_total") >= 800, 30)
        before = metric_sum(port, "alertron_ingest_mqtt_messages_total")
        first.kill()
        print(f"  ingest killed (SIGKILL) after {before} of {count} messages were in Kafka")
        time.sleep(1)  # the fleet goes on publishing into the broker while no ingest is there
        second = mesh.start("ingest-b", [harness.binary("ingest")], mesh.service_env(port, **env))
        mesh.wait_ready(second, port)
        out, err = publisher.communicate(timeout=120)
    finally:
        if publisher.poll() is None:
            publisher.kill()
    assert publisher.returncode == 0, f"the fleet: {out}{err[-2000:]}"
    print(f"  fleet: {out.strip()}")
    summary = mesh.ids("readings", harness.run_ids(run, count), wait=60)
    print(f"  readings: {summary.unique} of {count} ids, {summary.duplicates} duplicates")
    assert summary.missing == 0, f"missing after the kill, e.g. {summary.missing_sample}"
    with open(second.log_path) as f:
        assert any('"session_present":"true"' in line for line in f), "ingest-b resumed ingest-a's session"


def test_fuzzed_mqtt_payloads_are_read_or_dead_lettered_with_a_reason(mesh, clients_python):
    """Mutated payloads (scripts/faults/mqtt_fuzz.py, seeded by FUZZ_SEED): ingest stays up,
    every message is accounted for (produced or dead-lettered, then acknowledged), every dead
    letter says why, and what was produced is a valid event."""
    seed, count = int(os.environ.get("FUZZ_SEED", "16")), int(os.environ.get("FUZZ_MESSAGES", "600"))
    port = harness.free_port()
    mesh.start_broker()
    _, url = mesh.start_mosquitto()
    ingest = mesh.start_service("ingest", "ingest", port, MQTT_URL=url)
    mesh.wait_ready(ingest, port)
    result = subprocess.run([clients_python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mqtt_fuzz.py"),
                             url, str(count), str(seed)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and json.loads(result.stdout)["published"] == count, result.stdout + result.stderr[-2000:]
    counted = "alertron_ingest_mqtt_messages_total"
    assert harness.wait_until(lambda: metric_sum(port, counted) == count, 60), \
        f"{metric_sum(port, counted)} of {count} messages accounted for; ingest log:\n{ingest.log_tail()}"
    assert ingest.alive() and harness.http_status(f"http://127.0.0.1:{port}/readyz") == 200
    dead = [json.loads(value) for _, _, value in mesh.read_topic("readings.dlq")]
    assert len(dead) == metric_sum(port, counted, {"outcome": "dead_lettered"})
    assert all(letter["reason"].startswith("MQTT topic '") and len(letter["reason"]) > 20 for letter in dead)
    events = [json.loads(value) for _, _, value in mesh.read_topic("readings")]
    assert all(event["kind"] in ("reading", "log") and event["id"] for event in events)
    reasons = sorted({letter["reason_code"] for letter in dead})
    print(f"  {count} fuzzed messages (seed {seed}): {len(events)} events produced, {len(dead)} dead letters ({reasons})")
