"""A device fleet over MQTT with paho-mqtt (PyPI), for the process tests: publishes `count`
Alertron readings at QoS 1, their ids `<run>-<n>`, to devices/<device>/readings at `rate` per
second, and exits once the broker has acknowledged every one.

usage: mqtt_fleet.py URL RUN COUNT RATE"""
import json
import sys
import time
import urllib.parse

import paho.mqtt.client as mqtt

url, run, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
parts = urllib.parse.urlparse(url)
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fleet-{run}", protocol=mqtt.MQTTv311)
if parts.username:
    client.username_pw_set(parts.username, parts.password)
client.max_inflight_messages_set(100)
client.max_queued_messages_set(0)
client.connect(parts.hostname, parts.port or 1883)
client.loop_start()
started = time.monotonic()
pending = []
for n in range(count):
    reading = {"id": f"{run}-{n}", "device_id": f"pump-{n % 20}",
               "values": {"flow": 10.0 + n % 7, "pressure": 2.0 + (n % 5) / 10}}
    pending.append(client.publish(f"devices/pump-{n % 20}/readings", json.dumps(reading), qos=1))
    delay = started + (n + 1) / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
for info in pending:
    info.wait_for_publish(timeout=60)
unacknowledged = sum(1 for info in pending if not info.is_published())
client.loop_stop()
client.disconnect()
print(json.dumps({"published": count - unacknowledged, "unacknowledged": unacknowledged,
                  "seconds": round(time.monotonic() - started, 2)}))
sys.exit(1 if unacknowledged else 0)
