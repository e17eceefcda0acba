#!/usr/bin/env bash
# SKAB valve1 (a real pump testbed, ../shared/datasets/skab-valve1) through the command line,
# under the benchmark's protocol: per file, train on the first 400 rows, then judge every later
# row in time order; pool the confusion over all files. Each file is one device streamed by
# `scorer score` at one row a second, with the service's defaults. The baseline, measured in the
# same run: the same model's forest score against its own threshold, row by row (what the scorer
# did before devices had their own normal). Also prints the on-call view: faults caught, delay,
# false episodes. Usage: scripts/bench-skab.sh (SCORER, DATASETS override the paths).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
scorer="${SCORER:-$root/.build-services/release/scorer}"
datasets="${DATASETS:-$root/../shared/datasets}"
folder="$datasets/skab-valve1"
[ -x "$scorer" ] || { echo "bench-skab: $scorer is missing; build the scorer (release) first" >&2; exit 1; }
[ -d "$folder" ] || { echo "bench-skab: $folder is missing" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

features="Accelerometer1RMS,Accelerometer2RMS,Current,Pressure,Temperature,Thermocouple,Voltage,Volume Flow RateRMS"
for file in "$folder"/*.csv; do
  name="$(basename "$file" .csv)"
  # The files separate with ';'; the scorer reads ','.
  tr ';' ',' <"$file" >"$work/$name.csv"
  head -n 401 "$work/$name.csv" >"$work/$name.train.csv"
  "$scorer" train --csv "$work/$name.train.csv" --features "$features" --out "$work/$name.model.json" >/dev/null
  "$scorer" score --model "$work/$name.model.json" --csv "$work/$name.csv" --interval 1 >"$work/$name.scored.csv"
  # The baseline: nothing learned per device, so every row keeps the forest's own score.
  "$scorer" score --model "$work/$name.model.json" --csv "$work/$name.csv" --interval 1 --warm-up 1000000 \
    >"$work/$name.forest.csv"
done

python3 - "$work" <<'PYTHON'
import csv, glob, json, os, sys

work = sys.argv[1]

def pooled(flags_of):
    tp = fp = fn = tn = 0
    caught, delays, false_episodes, faults = 0, [], 0, 0
    for data in sorted(glob.glob(os.path.join(work, "*.train.csv"))):
        name = os.path.basename(data)[: -len(".train.csv")]
        with open(os.path.join(work, name + ".csv")) as f:
            labels = [float(row["anomaly"]) == 1 for row in csv.DictReader(f)]
        flags = flags_of(name)
        assert len(flags) == len(labels), name
        labels, flags = labels[400:], flags[400:]
        for label, flag in zip(labels, flags):
            tp += label and flag; fp += flag and not label; fn += label and not flag; tn += not label and not flag
        # The on-call view: each labelled run is a fault; flags less than 10 rows apart are one page.
        start = None
        for i, label in enumerate(labels):
            if label and (i == 0 or not labels[i - 1]):
                faults += 1
                start = i
                hit = next((j for j in range(i, len(labels)) if flags[j]), None)
                end = next((j for j in range(i, len(labels)) if not labels[j]), len(labels))
                if hit is not None and hit <= end + 3:
                    caught += 1
                    delays.append(hit - i)
        i, page_true, gap = 0, None, 0
        for index, flag in enumerate(flags):
            touches = labels[index] or any(labels[max(0, index - 3):index])
            if flag:
                page_true = (page_true or False) or touches
                gap = 0
            elif page_true is not None:
                page_true = page_true or touches
                gap += 1
                if gap >= 10:
                    false_episodes += not page_true
                    page_true = None
        if page_true is not None:
            false_episodes += not page_true
    f1 = tp / (tp + (fp + fn) / 2) if tp else 0.0
    far = fp / (fp + tn) if fp + tn else float("nan")
    mar = fn / (fn + tp) if fn + tp else float("nan")
    delays.sort()
    median = delays[len(delays) // 2] if delays else float("nan")
    return f1, far, mar, caught, faults, median, false_episodes

def column(name, suffix, pick):
    with open(os.path.join(work, name + suffix)) as f:
        return [pick(row) for row in csv.DictReader(f)]

def forest_flags(name):
    threshold = json.load(open(os.path.join(work, name + ".model.json")))["threshold"]
    return column(name, ".forest.csv", lambda row: float(row["score"]) >= threshold)

def stream_flags(name):
    return column(name, ".scored.csv", lambda row: row["anomaly"] == "1")

results = [("forest score >= its threshold (baseline)", pooled(forest_flags)),
           ("scorer score: the device's own normal", pooled(stream_flags))]
base_f1 = results[0][1][0]
for label, (f1, far, mar, caught, faults, median, false_episodes) in results:
    ratio = f1 / base_f1 if base_f1 else float("nan")
    print(f"skab.valve1  {label:42s} F1 {f1:.3f} ({ratio:.2f}x)  FAR {100 * far:5.2f}%  MAR {100 * mar:5.2f}%  "
          f"faults caught {caught}/{faults}, median delay {median} rows, false episodes {false_episodes}")
PYTHON
