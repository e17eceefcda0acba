"""The scorer as a strong Python engineer would write it, for scripts/bench-scorer.sh: a
confluent-kafka consumer in a group taking batches of 10,000, orjson, numpy, scikit-learn's
IsolationForest scoring each batch at once (score_samples), an idempotent zstd producer with
up to 8 batches awaiting acknowledgement, and each batch's offsets stored only once all its
output is acknowledged, in order (the same at-least-once contract as Alertron's scorer). No
per-device state and no explanations: a score and a flag per reading.

usage: python_peer.py BROKERS GROUP MODEL.pkl OUTPUT_TOPIC IDLE_SECONDS INDEX COUNT
Process INDEX of COUNT takes the partitions p of `readings` with p % COUNT == INDEX (assigned,
not by a group rebalance, so no process waits for another to join; offsets are still stored
and committed under GROUP).
Prints one JSON line: readings scored, first and last time (epoch seconds), CPU seconds."""
import collections
import json
import pickle
import resource
import sys
import time

import numpy as np
import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

brokers, group, model_path, output = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
idle, index, processes = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
with open(model_path, "rb") as f:
    model = pickle.load(f)
forest, threshold, channels = model["forest"], model["threshold"], model["channels"]

consumer = Consumer({
    "bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest",
    "enable.auto.offset.store": False, "enable.auto.commit": True, "auto.commit.interval.ms": 1000,
    "fetch.wait.max.ms": 10,
})
producer = Producer({
    "bootstrap.servers": brokers, "enable.idempotence": True, "compression.type": "zstd",
    "linger.ms": 5, "queue.buffering.max.messages": 1_000_000, "batch.num.messages": 10_000,
})
partitions = len(consumer.list_topics("readings", timeout=10).topics["readings"].partitions)
consumer.assign([TopicPartition("readings", p, OFFSET_BEGINNING) for p in range(partitions) if p % processes == index])


class Batch:
    def __init__(self, offsets, size):
        self.offsets, self.waiting, self.size = offsets, size, size

    def delivered(self, error, _message):
        if error is not None:
            raise RuntimeError(f"delivery failed: {error}")
        self.waiting -= 1


in_flight = collections.deque()
scored = 0
first = last = None
last_message = time.monotonic()


def settle(limit):
    """Stores the offsets of finished batches, oldest first, until at most `limit` remain."""
    global scored, last
    while in_flight:
        producer.poll(0 if len(in_flight) <= limit else 0.01)
        head = in_flight[0]
        if head.waiting > 0:
            if len(in_flight) <= limit:
                return
            continue
        consumer.store_offsets(offsets=head.offsets)
        scored += head.size
        last = time.time()
        in_flight.popleft()


while True:
    messages = consumer.consume(10_000, timeout=0.2)
    messages = [m for m in messages if m.error() is None]
    if not messages:
        settle(0)
        if first is not None and time.monotonic() - last_message > idle:
            break
        continue
    if first is None:
        first = time.time()
    last_message = time.monotonic()
    events = [orjson.loads(m.value()) for m in messages]
    features = np.array([[event.get(c, 0.0) for c in channels] for event in events], dtype=np.float64)
    scores = -forest.score_samples(features)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ends = {}
    for m in messages:
        ends[(m.topic(), m.partition())] = max(ends.get((m.topic(), m.partition()), -1), m.offset() + 1)
    batch = Batch([TopicPartition(t, p, o) for (t, p), o in ends.items()], len(messages))
    for message, event, score in zip(messages, events, scores):
        anomaly = bool(score >= threshold)
        event["score"] = float(score)
        event["anomaly"] = anomaly
        event["severity"] = "warning" if anomaly else "none"
        event["model"] = "sklearn_iforest@peer"
        event["scored_at"] = now
        producer.produce(output, key=message.key(), value=orjson.dumps(event), on_delivery=batch.delivered)
    in_flight.append(batch)
    settle(8)
settle(0)
producer.flush(30)
consumer.close()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"scored": scored, "first": first, "last": last, "cpu": usage.ru_utime + usage.ru_stime}))
