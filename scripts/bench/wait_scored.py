"""Waits for a scorer to score COUNT readings, watching its predictions_total on /metrics
every 20 ms from one process (a curl per poll would itself take a good share of the CPU being
measured), and reads the CPU counters at its first prediction and at its COUNT-th. Prints the
seconds between them, the machine's busy share of all cores, and the scorer's and the
broker's shares (percent).

usage: wait_scored.py PORT COUNT TIMEOUT_SECONDS SCORER_PID BROKER_PID"""
import os
import sys
import time
import urllib.request

port, count, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
scorer, broker = sys.argv[4], sys.argv[5]
deadline = time.monotonic() + timeout
cores = os.cpu_count()
tick = os.sysconf("SC_CLK_TCK")


def predictions():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("predictions_total "):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0


def counters():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    processes = []
    for pid in (scorer, broker):
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        processes.append(int(stat[11]) + int(stat[12]))
    return time.monotonic(), sum(fields), fields[3] + fields[4], processes


start = None
while time.monotonic() < deadline:
    done = predictions()
    if start is None and done > 0:
        start = counters()
    if done >= count:
        end = counters()
        seconds = end[0] - start[0]
        busy = 100 * (1 - (end[2] - start[2]) / (end[1] - start[1]))
        shares = [100 * (e - s) / tick / seconds / cores for s, e in zip(start[3], end[3])]
        print(f"{seconds:.4f} {busy:.0f} {shares[0]:.0f} {shares[1]:.0f}")
        sys.exit(0)
    time.sleep(0.02)
sys.exit(f"wait_scored: {predictions():.0f} of {count} scored in {timeout:.0f} s")
