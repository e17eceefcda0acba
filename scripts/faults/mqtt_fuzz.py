"""Publishes seeded, mutated payloads at QoS 1 with paho-mqtt (PyPI): valid readings and log
lines of every shape ingest reads over MQTT (SenML, plain channels, Alertron's JSON, text), cut,
flipped, stretched, nested, or replaced by random bytes, on readings and logs topics (an empty
device level among them). Prints how many the broker acknowledged.

usage: mqtt_fuzz.py URL COUNT SEED"""
import json
import random
import sys
import urllib.parse

import paho.mqtt.client as mqtt

url, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
CORPUS = [
    (b"readings", b'{"flow": 3.5, "pressure": 2.25}'),
    (b"readings", b'[{"bn": "pump-1/", "bt": 1733600000, "n": "flow", "v": 12.5}, {"n": "pressure", "v": 2.25}]'),
    (b"readings", b'{"device_id": "pump-9", "temperature": 20.5, "pressure": 1013, "vibration": 0.02}'),
    (b"readings", b'{"values": {"flow": 1}, "profile": "pump", "ts": "2024-12-07T19:33:20Z"}'),
    (b"logs", b"kernel: EXT4-fs error (device sda1): unable to read inode block"),
    (b"logs", b'{"message": "sshd: failed password for root", "level": "warning"}'),
]
EDGES = [b"", b"{}", b"[]", b"null", b"true", b"1e999", b'{"flow": 1e999}', b'{"flow": NaN}', b"[" * 5000,
         b'{"a":' * 2000, b"\xff\xfe\xfd", b'{"flow": "3"}', b'[{"n": "x", "v": true}]', b'{"device_id": ""}',
         b'{"message": ""}', b"x" * 9000, json.dumps({f"c{i}": i for i in range(100)}).encode()]


def mutate(payload):
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if not data or choice < 0.25:
            data[rng.randrange(len(data) + 1):] = b""
        elif choice < 0.5:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.75:
            at = rng.randrange(len(data))
            data[at:at] = rng.choice([b"{", b"[", b'"', b",", b"\\u0000", b"-", b"9" * 400, b"\xc3"])
        else:
            at = rng.randrange(len(data))
            data[at:at] = data[at:at + rng.randint(1, 50)] * rng.randint(1, 20)
    return bytes(data)


parts = urllib.parse.urlparse(url)
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fuzz-{seed}", protocol=mqtt.MQTTv311)
client.max_inflight_messages_set(100)
client.connect(parts.hostname, parts.port or 1883)
client.loop_start()
pending = []
for n in range(count):
    if n < len(EDGES):
        kind, payload = rng.choice([b"readings", b"logs"]), EDGES[n]
    elif rng.random() < 0.1:
        kind, payload = rng.choice([b"readings", b"logs"]), bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    else:
        kind, payload = rng.choice(CORPUS)
        payload = mutate(payload)
    device = rng.choice(["pump-1", "gw-2", "d" * 300, ""])
    pending.append(client.publish(f"devices/{device}/{kind.decode()}", payload, qos=1))
for info in pending:
    info.wait_for_publish(timeout=60)
client.loop_stop()
client.disconnect()
print(json.dumps({"published": sum(1 for info in pending if info.is_published())}))
