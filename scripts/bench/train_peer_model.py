"""Trains the Python peer's model for scripts/bench-scorer.sh: scikit-learn's IsolationForest
(100 trees of 256 samples, as Alertron's) on the normal readings (truth.anomaly false) of a
file of events, one JSON per line; the threshold is the training scores' 99.5th percentile.

usage: train_peer_model.py EVENTS.jsonl MODEL.pkl"""
import pickle
import sys

import numpy as np
import orjson
from sklearn.ensemble import IsolationForest

CHANNELS = ["temperature", "pressure", "vibration"]
rows = []
with open(sys.argv[1], "rb") as f:
    for line in f:
        event = orjson.loads(line)
        if not event.get("truth", {}).get("anomaly", False):
            rows.append([event[c] for c in CHANNELS])
features = np.array(rows, dtype=np.float64)
forest = IsolationForest(n_estimators=100, max_samples=256, random_state=0).fit(features)
threshold = float(np.quantile(-forest.score_samples(features), 0.995))
with open(sys.argv[2], "wb") as f:
    pickle.dump({"forest": forest, "threshold": threshold, "channels": CHANNELS}, f)
print(f"peer model: {len(rows)} normal readings, threshold {threshold:.4f}")
