"""The process-level fault tests' harness: the real binaries (debug build), each in its own
process group on free ports, a development broker per test, and what tests read back (topics
through kcat, /metrics, readiness, the consumer's partition log lines). Every process a test
starts is stopped when it ends, services before the broker, and none may be left behind.
"""
import collections
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED_BIN = os.path.join(ROOT, "shared", ".build", "debug")
SERVICES_BIN = os.path.join(ROOT, ".build-services", "debug")
BINARIES = {
    "alertron-devbroker": SHARED_BIN, "scorer": SERVICES_BIN, "ingest": SERVICES_BIN,
    "notifier": SERVICES_BIN, "generator": SERVICES_BIN, "alertron-slack-standin": SHARED_BIN,
}


def binary(name):
    return os.path.join(BINARIES[name], name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url, timeout=3):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return 0


def metric_sum(port, name, labels=None):
    """The sum of a metric's samples on a service's /metrics (0 when unreachable), optionally
    only those whose labels include every `labels` item."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
            text = response.read().decode()
    except (OSError, ValueError):
        return 0
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line[len(name):len(name) + 1] not in ("{", " "):
            continue
        if labels and not all(f'{k}="{v}"' in line for k, v in labels.items()):
            continue
        total += float(line.rsplit(" ", 1)[1])
    return int(total)


class Process:
    def __init__(self, name, args, env, directory):
        self.name = name
        self.log_path = os.path.join(directory, f"{name}.log")
        with open(os.path.join(directory, f"{name}.out"), "wb") as out, open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(args, env=env, stdout=out, stderr=log, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        self.group = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def kill(self):
        """SIGKILL to the whole group: a crash or an OOM kill."""
        os.killpg(self.group, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after `timeout` s; the exit status."""
        if self.alive():
            try:
                os.killpg(self.group, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  note: {self.name} did not stop within {timeout} s of SIGTERM; killed")
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.group, signal.SIGKILL)  # anything left in its group goes too
        except ProcessLookupError:
            pass
        return self.popen.wait()

    def wait(self, seconds):
        """Its exit status once it exits by itself, or None after `seconds` (then it is stopped)."""
        try:
            return self.popen.wait(seconds)
        except subprocess.TimeoutExpired:
            print(f"  {self.name} still running after {seconds} s; stopping it")
            self.stop()
            return None

    def log_tail(self, lines=20):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def crash_reason(self):
        """Swift's fatal error and the first frame in Alertron's code, from its log."""
        with open(self.log_path, errors="replace") as f:
            text = f.read()
        fatal = re.search(r"Fatal error: .*", text)
        frame = re.search(r" at [^ ]*/(?:services|shared)/[^ ]*\.swift:\d+", text)
        return " ".join(m.group(0) for m in (fatal, frame) if m) or "no reason in its log"


class Mesh:
    """One test's processes: its own development broker, and the services it starts on it."""

    def __init__(self, directory, models):
        self.directory = directory
        self.models = models
        self.processes = []
        self.brokers = None

    def start(self, name, args, env=None):
        process = Process(name, args, {**os.environ, **(env or {})}, self.directory)
        self.processes.append(process)
        return process

    def start_broker(self, port=None):
        bootstrap = os.path.join(self.directory, "bootstrap")
        self.start("devbroker", [binary("alertron-devbroker"), "--listen", f"127.0.0.1:{port or free_port()}",
                                 "--control", f"127.0.0.1:{free_port()}", "--bootstrap-file", bootstrap])
        for _ in range(150):
            if os.path.exists(bootstrap) and os.path.getsize(bootstrap) > 0:
                break
            time.sleep(0.1)
        with open(bootstrap) as f:
            self.brokers = f.read().strip()

    def start_mosquitto(self, user=None, name="mosquitto"):
        """Debian's mosquitto on a free loopback port, its persistent sessions in memory; with
        `user` (name, password) anonymous clients are refused. Returns (port, mqtt:// URL)."""
        port = free_port()
        conf = os.path.join(self.directory, f"{name}.conf")
        lines = [f"listener {port} 127.0.0.1", "persistence false", "max_inflight_messages 1000",
                 "max_queued_messages 1000000", "log_dest stderr", "log_type error", "log_type warning",
                 "log_type notice", "connection_messages true"]
        if os.geteuid() == 0:
            lines.append("user root")  # as root it would drop to the mosquitto user, who cannot read this test's folder
        url = f"mqtt://127.0.0.1:{port}"
        if user:
            passwords = os.path.join(self.directory, f"{name}.passwords")
            with open(passwords, "w") as f:
                f.write(f"{user[0]}:{user[1]}\n")
            subprocess.run(["mosquitto_passwd", "-U", passwords], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
            url = f"mqtt://{user[0]}:{user[1]}@127.0.0.1:{port}"
        else:
            lines.append("allow_anonymous true")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.start(name, ["/usr/sbin/mosquitto", "-c", conf])
        assert wait_until(lambda: port_open(port), 10), f"mosquitto did not listen on {port}"
        return port, url

    def service_env(self, port, **extra):
        """The local profile, as scripts/run-local.sh sets it: one low session timeout for every
        consumer (the development broker's rebalance after a member leaves waits about that
        long), and a short fetch wait (it answers a fetch only after fetch.wait.max.ms)."""
        env = {"KAFKA_BROKERS": self.brokers, "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_FETCH_WAIT_MAX_MS": "10",
               "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "info",
               "MODEL_PATH": self.models["sensor"], "LOG_MODEL_PATH": self.models["log"]}
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start_service(self, name, command, port, **env):
        return self.start(name, [binary(command)] + (["serve"] if command in ("scorer", "notifier") else []),
                          self.service_env(port, **env))

    def wait_ready(self, process, port, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if http_status(f"http://127.0.0.1:{port}/readyz") == 200:
                return
            assert process.alive(), f"{process.name} exited while starting; its log:\n{process.log_tail()}"
            time.sleep(0.2)
        raise AssertionError(f"{process.name} not ready after {seconds} s; its log:\n{process.log_tail()}")

    def read_topic(self, topic):
        """Every message on `topic`: (partition, offset, value) per message."""
        output = subprocess.run(["kcat", "-b", self.brokers, "-C", "-t", topic, "-e", "-q", "-f", "%p\t%o\t%s\n"],
                                capture_output=True, timeout=120).stdout
        messages = []
        for line in output.split(b"\n"):
            parts = line.split(b"\t", 2)
            if len(parts) == 3:
                messages.append((int(parts[0]), int(parts[1]), parts[2]))
        return messages

    def ids(self, topic, expected, wait=0):
        """How the event ids on `topic` compare with `expected`, waiting up to `wait` seconds for
        every one to arrive."""
        deadline = time.monotonic() + wait
        while True:
            summary = id_summary(self.read_topic(topic), expected)
            if summary.missing == 0 or time.monotonic() >= deadline:
                return summary
            time.sleep(2)

    def stop_all(self):
        """Services before the broker (so consumers commit while it is there); then nothing of
        any group this test started may be left."""
        for process in reversed(self.processes):
            process.stop()
        left = [p.name for p in self.processes if group_alive(p.group)]
        self.processes = []
        return left


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def group_alive(group):
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


IdSummary = collections.namedtuple("IdSummary", "records unique expected missing duplicates missing_sample")


def id_summary(messages, expected):
    seen = collections.Counter()
    for _, _, value in messages:
        try:
            event_id = json.loads(value).get("id")
        except (ValueError, AttributeError):
            continue
        if event_id in expected:
            seen[event_id] += 1
    records = sum(seen.values())
    missing = sorted(expected - set(seen), key=lambda i: (len(i), i))
    return IdSummary(records, len(seen), len(expected), len(missing), records - len(seen), missing[:10])


def run_ids(prefix, count):
    """The generator's ids for a run: `<run-id>-<sequence>`."""
    return {f"{prefix}-{n}" for n in range(count)}


def partitions(log_path, since=None):
    """The partitions a consumer owns after its log's "kafka rebalance" lines (cooperative-sticky:
    incremental), and those assigned at or after `since` (epoch seconds) with the delay to the first."""
    owned, assigned_since, first_after = set(), set(), None
    with open(log_path, errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") != "kafka rebalance" or entry.get("kind") not in ("assigned", "revoked"):
                continue
            changed = {int(p) for p in re.findall(r"\[(\d+)\]", entry.get("partitions", ""))}
            if entry["kind"] == "assigned":
                owned |= changed
                if since is not None:
                    at = datetime.datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
                    if at >= since:
                        assigned_since |= changed
                        first_after = at - since if first_after is None else first_after
            else:
                owned -= changed
    return owned, assigned_since, first_after


def wait_until(condition, seconds, interval=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
