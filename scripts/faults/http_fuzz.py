#!/usr/bin/env python3
"""HTTP fuzzing of ingest's routes and the notifier's Alertmanager webhook (test_process_faults.py
runs it against the real services; it also runs alone against any ingest and notifier):

    http_fuzz.py --ingest URL --notifier URL --token TOKEN [--requests 4000] [--seed 1] [--workers 4]
                 [--failures FILE]

Sends random requests, one connection each: random bytes, mutated valid bodies, random JSON,
edge cases (deep nesting, huge numbers and strings, lone surrogates, NUL, BOM, CRLF NDJSON,
oversize bodies and arrays), random and odd Content-Types, random extra headers (long
values, Content-Encoding, chunked transfer), bodies gzip-compressed (whole, truncated or with
flipped bytes), Loki pushes and OTLP JSON exports, and for the webhook with the right token, no
token or a wrong one. Counts answers by route and status.

Acceptable answers: 4xx, and 2xx where the fuzzed input happened to be valid (a mutation
that kept it valid, or one of the few valid samples mixed in). A failure: any 5xx (503
included: the broker is up), any other status, a connection reset or closed without an
answer, a timeout. After the random requests, a corpus of hand-picked ones (the edges of every
limit, and what the fuzzing found) must each get its stated answer class, 2xx or 4xx.
Prints the figures; writes the failing requests to --failures (JSON lines, body in base64) to
replay them. Exit status: 1 if any request failed, 2 if a corpus request got the wrong class
(valid input refused, or invalid input accepted), 3 for both.
"""
import argparse
import base64
import collections
import gzip
import json
import random
import select
import socket
import sys
import threading
import time
import urllib.parse

VALID_READING = {"device_id": "edge-1", "temperature": 21.5, "pressure": 1013.0, "vibration": 0.02}
VALID_LOG = {"source": "db-1", "message": "EXT4-fs (sda2): Remounting filesystem read-only", "level": "error"}
VALID_LEGACY = {"device_id": "edge-1", "features": [21.5, 1013.0, 0.02], "ts": 1763712000}
VALID_SENML = [{"bn": "urn:dev:ow:10e2073a01080063:", "bt": 1733600000, "n": "temperature", "u": "Cel", "v": 23.1},
               {"n": "pressure", "v": 1009.5}, {"n": "vibration", "v": 0.02}, {"n": "door", "vb": True},
               {"n": "temperature", "t": 60, "v": 23.4}, {"n": "pressure", "t": 60, "v": 1009.1}, {"n": "vibration", "t": 60, "v": 0.021}]
VALID_LOKI = {"streams": [{"stream": {"job": "db-1", "level": "error"},
                           "values": [["1733600000000000000", "EXT4-fs error (device sda2)"], ["1733600001000000000", "ok", {"k": "v"}]]}]}
VALID_OTLP = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
                                "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [
                                    {"timeUnixNano": "1733600000000000000", "severityNumber": 17, "severityText": "ERROR",
                                     "body": {"stringValue": "payment failed"}, "attributes": []}]}]}]}
VALID_ALERTMANAGER = {
    "version": "4", "groupKey": "{}:{alertname=\"HighAnomalyRate\"}", "status": "firing", "receiver": "notifier",
    "groupLabels": {"alertname": "HighAnomalyRate"}, "commonLabels": {"alertname": "HighAnomalyRate", "severity": "warning"},
    "commonAnnotations": {"summary": "anomaly rate high"}, "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
    "alerts": [{"status": "firing", "labels": {"alertname": "HighAnomalyRate", "severity": "warning"},
                "annotations": {"summary": "anomaly rate high"}, "startsAt": "2026-11-21T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph", "fingerprint": "a1b2c3d4e5f60718"}],
}

def protobuf_field(number, payload):
    """A length-delimited protobuf field."""
    length, size = b"", len(payload)
    while size >= 0x80:
        length += bytes([size & 0x7F | 0x80])
        size >>= 7
    return bytes([number << 3 | 2]) + length + bytes([size]) + payload


def otlp_protobuf(body=b"payment failed", service=b"checkout"):
    """An OTLP ExportLogsServiceRequest in protobuf, written field by field (logs.proto's numbers)."""
    record = (b"\x09" + (1733600000000000000).to_bytes(8, "little") + b"\x10\x11" + protobuf_field(3, b"ERROR")
              + protobuf_field(5, protobuf_field(1, body)))
    resource = protobuf_field(1, protobuf_field(1, protobuf_field(1, b"service.name") + protobuf_field(2, protobuf_field(1, service))))
    return protobuf_field(1, resource + protobuf_field(2, protobuf_field(2, record) * 3))


CONTENT_TYPES = ["application/json", "application/json", "application/x-ndjson", "application/ndjson", "application/jsonl",
                 "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;", " application/json ",
                 "text/plain", "application/xml", "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded",
                 "", "*/*", "application/json; charset=\u00e9", "application/json, text/plain", None]

TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"


class Fuzzer:
    def __init__(self, rng, token):
        self.rng = rng
        self.token = token

    # ---- values
    def random_json(self, depth=0):
        r = self.rng
        kinds = ["int", "float", "string", "bool", "null"] + (["array", "object"] if depth < 5 else [])
        kind = r.choice(kinds)
        if kind == "int":
            return r.choice([0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30, r.randint(-10**6, 10**6)])
        if kind == "float":
            return r.choice([0.0, -0.0, 1e308, -1e308, 5e-324, r.uniform(-1e6, 1e6)])
        if kind == "string":
            return self.random_string()
        if kind == "bool":
            return r.random() < 0.5
        if kind == "null":
            return None
        if kind == "array":
            return [self.random_json(depth + 1) for _ in range(r.randint(0, 6))]
        keys = ["device_id", "temperature", "pressure", "vibration", "source", "message", "level", "id", "ts", "schema",
                "kind", "features", "alerts", "status", "groupKey", "labels", "version", "truth"]
        return {(r.choice(keys) if r.random() < 0.7 else self.random_string(12)): self.random_json(depth + 1)
                for _ in range(r.randint(0, 8))}

    def random_string(self, limit=64):
        r = self.rng
        pools = ["ascii", "unicode", "control", "long"]
        pool = r.choice(pools)
        if pool == "ascii":
            return "".join(chr(r.randint(32, 126)) for _ in range(r.randint(0, limit)))
        if pool == "unicode":
            return "".join(chr(r.choice([r.randint(0x80, 0x7ff), r.randint(0x800, 0xd7ff), r.randint(0x10000, 0x10ffff),
                                         0xfeff, 0x202e, 0x0])) for _ in range(r.randint(0, limit)))
        if pool == "control":
            return "".join(chr(r.randint(0, 31)) for _ in range(r.randint(0, limit)))
        return r.choice("ax\u00e9\U0001F525") * r.randint(1000, 20000)

    def mutate(self, data):
        r = self.rng
        data = bytearray(data)
        for _ in range(r.randint(1, 6)):
            if not data:
                data += bytes([r.randint(0, 255)])
                continue
            op = r.randrange(9)
            i = r.randrange(len(data))
            if op == 0:
                data[i] = r.randint(0, 255)
            elif op == 1:
                data[i:i] = r.randbytes(r.randint(1, 8))
            elif op == 2:
                del data[i:i + r.randint(1, 16)]
            elif op == 3:
                j = r.randrange(len(data))
                data[i:i] = data[min(i, j):max(i, j)][:256]
            elif op == 4:
                data[i:i] = r.choice([b"NaN", b"Infinity", b"-1e999", b"1e999", b"null", b"\"\"", b"[]", b"{}", b"\\ud800",
                                      b"\\u0000", b"9" * 400, b"\x00", b"\xff\xfe", b"\r\n", b"\n\n", b",", b":", b"\"", b"\\"])
            elif op == 5:
                data = data[:i]
            elif op == 6:
                data[i:i] = json.dumps(self.random_json()).encode()
            elif op == 7:
                data = bytearray(data.replace(b"21.5", r.choice([b"\"21.5\"", b"true", b"-0", b"1e400", b"NaN", b"[]"])))
            else:
                data = bytearray(data.replace(b"\"edge-1\"", r.choice([b"\"\"", b"1", b"null", b"\"" + b"d" * 300 + b"\""])))
        return bytes(data)

    def edge_case(self, template):
        r = self.rng
        case = r.randrange(14)
        if case == 0:
            depth = r.choice([100, 600, 5000, 50000])
            return b"[" * depth + b"]" * depth
        if case == 1:
            depth = r.choice([100, 600, 5000])
            return b"{\"a\":" * depth + b"1" + b"}" * depth
        if isinstance(template, list) and case in (2, 3):
            return json.dumps([self.edge_record(template[0], case)] + template[1:]).encode()
        if case == 2:
            field = r.choice(list(template)).encode()
            return json.dumps(template).encode()[:-1] + b',"' + field + b'":' + b"9" * r.choice([30, 400, 5000]) + b"}"
        if case == 3:
            return json.dumps(dict(template, **{r.choice(list(template)): "x" * r.choice([257, 8193, 100000, 1000000])})).encode()
        if case == 4:
            return json.dumps(template).encode().replace(b"edge-1", b"edge-\\ud800").replace(b"db-1", b"db-\\udfff")
        if case == 5:
            return b"\xef\xbb\xbf" + json.dumps(template).encode()
        if case == 6:
            return json.dumps(template).encode() + b"\x00"
        if case == 7:
            return b"\r\n".join(json.dumps(template).encode() for _ in range(r.randint(1, 5))) + b"\r\n\r\n"
        if case == 8:
            return json.dumps([template] * r.choice([0, 1, 10001])).encode()
        if case == 9:
            return b"[" + b"," * r.randint(1, 5) + b"]"
        if case == 10:
            return json.dumps([template, self.random_json(), template]).encode()
        if case == 11:
            return b" " * r.randint(0, 100)
        if case == 12:
            return r.randbytes(5 * 1024 * 1024)  # over ingest's 4 MiB and the webhook's 900 kB
        return json.dumps(template).encode()[:-1] + b",\"" + b"k" * 1000 + b"\":" + b"[" * 100 + b"]" * 100 + b"}"

    def edge_record(self, record, case):
        """Cases 2 and 3 of edge_case for one record of a list body (SenML): a huge number or string."""
        r = self.rng
        key = r.choice(list(record))
        return dict(record, **{key: int("9" * r.choice([30, 300])) if case == 2 else "x" * r.choice([257, 8193, 100000])})

    def body(self, template):
        r = self.rng
        choice = r.random()
        if choice < 0.2:
            return r.randbytes(r.randint(0, 2000))
        if choice < 0.55:
            source = json.dumps(template if r.random() < 0.7 else [template, template]).encode()
            return self.mutate(source)
        if choice < 0.75:
            return json.dumps(self.random_json()).encode()
        if choice < 0.95:
            return self.edge_case(template)
        return json.dumps(template).encode()  # valid: the 2xx path still works under fuzzing

    def headers(self):
        r = self.rng
        headers = []
        for _ in range(r.randint(0, 5)):
            name = "".join(r.choice(TOKEN_CHARS) for _ in range(r.randint(1, 30)))
            value = "".join(chr(r.randint(32, 126)) for _ in range(r.choice([0, 5, 50, 4000])))
            headers.append((name, value))
        extras = [("Content-Encoding", r.choice(["gzip", "deflate", "br", "identity", "x"])),
                  ("Accept", r.choice(["*/*", "text/html", "application/json;q=0", ""])),
                  ("Accept-Encoding", "gzip, deflate"), ("Connection", r.choice(["close", "keep-alive", "upgrade"])),
                  ("X-Forwarded-For", "1.2.3.4, ::1"), ("Cookie", "a=" + "b" * 2000), ("User-Agent", "\u00e9t\u00e9".encode().decode("latin-1")),
                  ("Range", "bytes=0-1"), ("If-None-Match", "*"), ("Host", r.choice(["", "evil.example", "a" * 300]))]
        for _ in range(r.randint(0, 2)):
            headers.append(r.choice(extras))
        return headers

    def mutate_bytes(self, data):
        """Byte-level damage: flipped bytes, a cut, a repeated slice, or a huge length prefix."""
        r = self.rng
        data = bytearray(data)
        case = r.randint(0, 3)
        if case == 0:
            for _ in range(r.randint(1, 6)):
                data[r.randrange(len(data))] = r.randrange(256)
        elif case == 1:
            data = data[:r.randrange(len(data))]
        elif case == 2:
            start = r.randrange(len(data))
            data = data[:start] + data[start:start + r.randint(1, 30)] * r.randint(2, 50) + data[start:]
        else:
            data = bytearray(b"\x0a\xff\xff\xff\xff\x0f") + data
        return bytes(data)

    def compressed(self, body):
        """The body gzip-compressed: whole, as two members, truncated, with flipped bytes, or a bomb."""
        r = self.rng
        packed = gzip.compress(body, mtime=0)
        case = r.randint(0, 5)
        if case == 1:
            half = len(body) // 2
            return gzip.compress(body[:half], mtime=0) + gzip.compress(body[half:], mtime=0)
        if case == 2:
            return packed[:r.randint(0, max(0, len(packed) - 1))]
        if case == 3 and packed:
            damaged = bytearray(packed)
            for _ in range(r.randint(1, 4)):
                damaged[r.randrange(len(damaged))] = r.randrange(256)
            return bytes(damaged)
        if case == 4:
            return packed + r.randbytes(r.randint(1, 20))
        if case == 5 and r.random() < 0.2:
            return gzip.compress(b"\0" * (8 << 20), compresslevel=1, mtime=0)
        return packed

    def request(self, target):
        """(server, method, path, headers, body, chunked, label)."""
        r = self.rng
        headers = self.headers()
        chunked = r.random() < 0.05
        if target in ("readings", "logs", "ingest", "loki", "otlp", "senml"):
            template = {"readings": VALID_READING, "logs": VALID_LOG, "ingest": VALID_LEGACY, "loki": VALID_LOKI,
                        "otlp": VALID_OTLP, "senml": VALID_SENML}[target]
            path = {"readings": "/v1/readings", "logs": "/v1/logs", "ingest": "/ingest", "loki": "/loki/api/v1/push",
                    "otlp": "/v1/logs",
                    # A profile without a model: a pack cut down to some channels is still a reading
                    # the scorer judges by its device's own baseline, not a dead letter.
                    "senml": "/v1/readings?profile=senml" + r.choice(["", "&device_id=pump-7", "&device_id="])}[target]
            content_type = r.choice(CONTENT_TYPES + ["application/x-protobuf", "application/senml+json"]) \
                if r.random() < 0.5 else "application/json"
            if target == "senml" and r.random() < 0.8:
                content_type = "application/senml+json"
            if content_type is not None:
                headers.append(("Content-Type", content_type))
            if r.random() < 0.05:
                path += r.choice(["?x=1", "/", "//", "?" + "a" * 2000, "#frag"])
            body = self.body(template)
            if target == "otlp" and r.random() < 0.4:
                headers = [h for h in headers if h[0].lower() != "content-type"] + [("Content-Type", "application/x-protobuf")]
                body = self.mutate_bytes(otlp_protobuf()) if r.random() < 0.9 else otlp_protobuf()
                target = "otlp-protobuf"
            if r.random() < 0.25:
                body, label = self.compressed(body), target + "+gzip"
                headers = [h for h in headers if h[0].lower() != "content-encoding"] + [("Content-Encoding", "gzip")]
                return "ingest", "POST", path, headers, body, chunked, label
            return "ingest", "POST", path, headers, body, chunked, target
        if target == "log":
            message = self.random_string(200).encode("utf-8", "surrogatepass") if r.random() < 0.7 else \
                r.randbytes(r.randint(0, 300))
            if r.random() < 0.1:
                message = b"m" * r.choice([8193, 12000])
            encoded = urllib.parse.quote(message, safe="")
            raw = r.random()
            if raw < 0.1:
                encoded = r.choice(["%", "%%", "%zz", "%0", "..", "%2e%2e%2f", "a/b/c", "%00", "%ff%fe", "%C0%AF", ""])
            return "ingest", r.choice(["GET"] * 9 + ["HEAD", "POST", "DELETE"]), "/log/" + encoded, headers, b"", False, "log"
        # The webhook: right token, no token, or a wrong one.
        auth = r.random()
        if auth < 0.6:
            headers.append(("Authorization", f"Bearer {self.token}"))
            label = "webhook+token"
        elif auth < 0.8:
            label = "webhook-no-token"
        else:
            headers.append(("Authorization", r.choice([f"Bearer {self.token}x", "Bearer", "Basic dXNlcjpwYXNz", f"bearer  {self.token}",
                                                       "Bearer " + "t" * 5000, f"Bearer {self.token[:-1]}"])))
            label = "webhook-wrong-token"
        headers.append(("Content-Type", r.choice(["application/json", "text/plain", "", "application/x-ndjson"])))
        return "notifier", "POST", "/v1/alertmanager", headers, self.body(VALID_ALERTMANAGER), chunked, label


def send(base, method, path, headers, body, chunked, timeout=30):
    """Sends one request on its own connection, reading while it writes, as curl does: a
    server may answer (413, 401) before it has read the body. Returns (status, note); raises
    ConnectionResetError, ConnectionRefusedError, socket.timeout, or EOFError (closed with no answer)."""
    parsed = urllib.parse.urlsplit(base)
    head = [f"{method} {path} HTTP/1.1", f"Host: {parsed.hostname}:{parsed.port}"]
    head += [f"{name}: {value}" for name, value in headers]
    if method in ("POST", "PUT"):
        if chunked:
            head.append("Transfer-Encoding: chunked")
            pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000]) for i in range(0, len(body), 1000)]
            body = b"".join(pieces) + b"0\r\n\r\n"
        else:
            head.append(f"Content-Length: {len(body)}")
    else:
        body = b""
    outgoing = memoryview(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    deadline = time.monotonic() + timeout
    received = b""
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout) as connection:
        connection.setblocking(False)
        sent = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout(f"no answer within {timeout} s ({sent} of {len(outgoing)} bytes sent)")
            readable, writable, _ = select.select([connection], [connection] if sent < len(outgoing) else [], [], remaining)
            if readable:
                chunk = connection.recv(65536)
                if not chunk:
                    raise EOFError(f"closed without an answer ({sent} of {len(outgoing)} bytes sent)")
                received += chunk
                if b"\r\n\r\n" in received:
                    status_line = received.split(b"\r\n", 1)[0].split()
                    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else None
                    if status is None:
                        raise EOFError(f"not an HTTP answer: {received[:60]!r}")
                    if 100 <= status < 200:  # 100 Continue: the final answer follows
                        received = received.split(b"\r\n\r\n", 1)[1]
                        continue
                    return status, None if sent == len(outgoing) else "answered before the whole body was sent"
            if writable and sent < len(outgoing):
                try:
                    sent += connection.send(outgoing[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except BrokenPipeError as exc:
                    raise ConnectionResetError(f"broken pipe after {sent} bytes") from exc


def corpus(token):
    """Hand-picked requests sent after the random ones, each with the answer it must get
    ("2xx" for valid input, "4xx" for invalid): the edges of every limit, and inputs the random
    fuzzing found. The numeric `ts` extremes of /ingest go last: they crashed ingest once, and a
    crash would leave whatever follows unsent."""
    json_type = [("Content-Type", "application/json")]
    auth = [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")]

    def reading(**changes):
        return json.dumps(dict(VALID_READING, **changes)).encode()

    def log(**changes):
        return json.dumps(dict(VALID_LOG, **changes)).encode()

    def legacy(raw_ts=None, features="[21.5, 1013.5, 0.02]"):
        ts = "" if raw_ts is None else f', "ts": {raw_ts}'
        return f'{{"device_id": "edge-1", "features": {features}{ts}}}'.encode()

    def alertmanager(**changes):
        return json.dumps(dict(VALID_ALERTMANAGER, **changes)).encode()

    def loki(labels=None, values=None):
        stream = {"stream": labels if labels is not None else {"job": "db-1"},
                  "values": values if values is not None else [["1733600000000000000", "line"]]}
        return json.dumps({"streams": [stream]}).encode()

    def otlp(body="payment failed", service="checkout", level="ERROR"):
        record = dict(VALID_OTLP["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0], body={"stringValue": body},
                      severityText=level)
        return json.dumps({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                                             "scopeLogs": [{"logRecords": [record]}]}]}).encode()

    gzip_headers = json_type + [("Content-Encoding", "gzip")]
    compressed = [
        ("gzip: a reading", "/v1/readings", gzip.compress(reading(), mtime=0), "2xx"),
        ("gzip: two members", "/loki/api/v1/push", gzip.compress(loki()[:20], mtime=0) + gzip.compress(loki()[20:], mtime=0), "2xx"),
        ("gzip: an OTLP export", "/v1/logs", gzip.compress(otlp(), mtime=0), "2xx"),
        ("gzip: bomb, 64 MiB of zeros", "/v1/readings", gzip.compress(b"\0" * (64 << 20), compresslevel=9, mtime=0), "4xx"),
        ("gzip: 4 MiB + 1 inflated", "/v1/logs", gzip.compress(b" " * ((4 << 20) + 1), mtime=0), "4xx"),
        ("gzip: truncated", "/v1/readings", gzip.compress(reading(), mtime=0)[:-9], "4xx"),
        ("gzip: plain JSON said to be gzip", "/v1/readings", reading(), "4xx"),
        ("gzip: trailing garbage", "/v1/readings", gzip.compress(reading(), mtime=0) + b"xyz", "4xx"),
    ]

    items = [
        ("readings: integer values", "/v1/readings", reading(temperature=21, pressure=1013, vibration=0), "2xx"),
        ("readings: -0 and 1e308", "/v1/readings", reading(temperature=-0.0, pressure=1e308, vibration=5e-324), "2xx"),
        ("readings: truth.kind 64 B (the limit)", "/v1/readings", reading(truth={"anomaly": True, "kind": "k" * 64}), "2xx"),
        ("readings: truth.kind 65 B", "/v1/readings", reading(truth={"anomaly": True, "kind": "k" * 65}), "4xx"),
        ("readings: truth.kind 1.1 MB", "/v1/readings", reading(truth={"anomaly": True, "kind": "k" * 1_100_000}), "4xx"),
        ("readings: device_id 256 B", "/v1/readings", reading(device_id="d" * 256), "2xx"),
        ("readings: device_id 257 B", "/v1/readings", reading(device_id="d" * 257), "4xx"),
        ("readings: 10000 events", "/v1/readings", json.dumps([VALID_READING] * 10000).encode(), "2xx"),
        ("readings: 10001 events", "/v1/readings", json.dumps([VALID_READING] * 10001).encode(), "4xx"),
        ("readings: unknown field 1.1 MB", "/v1/readings", reading(extra="e" * 1_100_000), "2xx"),
        ("logs: message 8192 B", "/v1/logs", log(message="m" * 8192), "2xx"),
        ("logs: message 8193 B", "/v1/logs", log(message="m" * 8193), "4xx"),
        ("logs: source 257 B", "/v1/logs", log(source="s" * 257), "4xx"),
        ("logs: level 64 B (the limit)", "/v1/logs", log(level="l" * 64), "2xx"),
        ("logs: level 65 B", "/v1/logs", log(level="l" * 65), "4xx"),
        ("logs: level 1.1 MB", "/v1/logs", log(level="l" * 1_100_000), "4xx"),
        ("logs: 120 messages of 8 KiB in one request", "/v1/logs", json.dumps([dict(VALID_LOG, message="m" * 8192)] * 120).encode(), "2xx"),
        ("ingest: features [0, 1, 0]", "/ingest", legacy(features="[0, 1, 0]"), "2xx"),
        ("ingest: features [1, 2, 3]", "/ingest", legacy(features="[1, 2, 3]"), "2xx"),
        ("ingest: features [20.5, 1013.2, 0.0] (a machine at rest)", "/ingest", legacy(features="[20.5, 1013.2, 0.0]"), "2xx"),
        ("ingest: features [true, 2, 3]", "/ingest", legacy(features="[true, 2, 3]"), "4xx"),
        ("ingest: ts RFC 3339", "/ingest", legacy('"2026-11-21T08:00:00Z"'), "2xx"),
        ("ingest: ts 1763712000", "/ingest", legacy("1763712000"), "2xx"),
        ("alertmanager: no alerts", "/v1/alertmanager", alertmanager(alerts=[]), "2xx|4xx"),
        ("alertmanager: resolved", "/v1/alertmanager", alertmanager(status="resolved"), "2xx"),
        ("alertmanager: 950 kB label", "/v1/alertmanager",
         alertmanager(commonLabels={"alertname": "Big", "x": "v" * 950_000}), "4xx"),
        ("loki: a push", "/loki/api/v1/push", loki(), "2xx"),
        ("loki: service_name instead of job", "/loki/api/v1/push", loki(labels={"service_name": "api"}), "2xx"),
        ("loki: no source label", "/loki/api/v1/push", loki(labels={"env": "x"}), "4xx"),
        ("loki: line 8193 B", "/loki/api/v1/push", loki(values=[["1", "m" * 8193]]), "4xx"),
        ("loki: timestamp not a string", "/loki/api/v1/push", loki(values=[[1, "a"]]), "4xx"),
        ("loki: timestamp -1", "/loki/api/v1/push", loki(values=[["-1", "a"]]), "4xx"),
        ("loki: timestamp 2^63-1 ns", "/loki/api/v1/push", loki(values=[[str(2**63 - 1), "a"]]), "2xx"),
        ("loki: timestamp 2^63 ns", "/loki/api/v1/push", loki(values=[[str(2**63), "a"]]), "4xx"),
        ("loki: no values", "/loki/api/v1/push", loki(values=[]), "4xx"),
        ("loki: 10001 lines", "/loki/api/v1/push", loki(values=[["1", "a"]] * 10001), "4xx"),
        ("senml: a pack", "/v1/readings", json.dumps(VALID_SENML).encode(), "2xx"),
        ("senml: no base name, device in the query", "/v1/readings?device_id=pump-7&profile=pump", b'[{"n": "flow", "v": 3}]', "2xx"),
        ("senml: no base name, no device", "/v1/readings", b'[{"n": "flow", "v": 3}]', "4xx"),
        ("senml: bt 1e300", "/v1/readings", b'[{"bn": "d", "bt": 1e300, "n": "x", "v": 1}]', "4xx"),
        ("senml: v 1e400 (not finite)", "/v1/readings", b'[{"bn": "d", "n": "x", "v": 1e400}]', "4xx"),
        ("senml: 65 channels at one time", "/v1/readings",
         json.dumps([{"bn": "d", "n": f"c{i}", "v": i} for i in range(65)]).encode(), "4xx"),
        ("otlp: an export", "/v1/logs", otlp(), "2xx"),
        ("otlp protobuf: an export", "/v1/logs", otlp_protobuf(), "2xx"),
        ("otlp protobuf: body 8193 B (partial success)", "/v1/logs", otlp_protobuf(body=b"m" * 8193), "2xx"),
        ("otlp protobuf: body not UTF-8 (partial success)", "/v1/logs", otlp_protobuf(body=b"\xff\xfe"), "2xx"),
        ("otlp protobuf: length past the end", "/v1/logs", b"\x0a\xff\xff\xff\xff\x0f" + otlp_protobuf(), "4xx"),
        ("otlp protobuf: a group (wire type 3)", "/v1/logs", b"\x0b" + otlp_protobuf(), "4xx"),
        ("otlp: body 8193 B (partial success)", "/v1/logs", otlp(body="m" * 8193), "2xx"),
        ("otlp: service.name 257 B (partial success)", "/v1/logs", otlp(service="s" * 257), "2xx"),
        ("otlp: resourceLogs not an array", "/v1/logs", b'{"resourceLogs": {}}', "4xx"),
        ("otlp: timeUnixNano 1e30", "/v1/logs", otlp().replace(b'"1733600000000000000"', b"1e30"), "2xx|4xx"),
        ("log: message 8192 B", "/log/" + "m" * 8192, b"", "2xx"),
        ("log: message 8193 B", "/log/" + "m" * 8193, b"", "4xx"),
        ("log: invalid percent-encoding", "/log/%zz%", b"", "2xx|4xx"),
        # Numeric ts extremes: seconds since the epoch that do not fit in milliseconds as Int64.
        ("ingest: ts 1e12", "/ingest", legacy("1e12"), "2xx|4xx"),
        ("ingest: ts -1e17", "/ingest", legacy("-1e17"), "4xx"),
        ("ingest: ts 1e17", "/ingest", legacy("1e17"), "4xx"),
        ("ingest: ts 1e300", "/ingest", legacy("1e300"), "4xx"),
    ]
    for label, path, body, expect in items:
        server = "notifier" if path.startswith("/v1/alertmanager") else "ingest"
        method = "GET" if path.startswith("/log/") else "POST"
        headers = ([("Content-Type", "application/x-protobuf")] if label.startswith("otlp protobuf")
                   else [("Content-Type", "application/senml+json")] if label.startswith("senml") else json_type)
        yield label, server, method, path, auth if server == "notifier" else headers, body, expect
    for label, path, body, expect in compressed:
        yield label, "ingest", "POST", path, gzip_headers, body, expect


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--ingest", required=True)
    parser.add_argument("--notifier", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--failures")
    args = parser.parse_args(argv)

    targets = (["readings"] * 20 + ["logs"] * 15 + ["loki"] * 10 + ["otlp"] * 10 + ["senml"] * 8 + ["ingest"] * 10 + ["log"] * 10
               + ["webhook"] * 17)
    counts = collections.defaultdict(collections.Counter)
    notes = collections.Counter()
    failures = []
    lock = threading.Lock()
    next_index = [0]

    down = {}  # server: the request number after which it refused connections (it crashed)

    def worker(number):
        rng = random.Random(args.seed * 1000 + number)
        fuzzer = Fuzzer(rng, args.token)
        while True:
            with lock:
                if next_index[0] >= args.requests:
                    return
                next_index[0] += 1
                index = next_index[0]
            server, method, path, headers, body, chunked, label = fuzzer.request(rng.choice(targets))
            base = args.ingest if server == "ingest" else args.notifier
            if server in down:
                with lock:
                    counts[label]["not sent: server down"] += 1
                continue
            try:
                outcome, note = send(base, method, path, headers, body, chunked)
            except socket.timeout as exc:
                outcome, note = "timeout", str(exc)
            except EOFError as exc:
                outcome, note = "closed without an answer", str(exc)
            except (ConnectionResetError, ConnectionRefusedError) as exc:
                outcome, note = type(exc).__name__, None
            except Exception as exc:
                outcome, note = type(exc).__name__, str(exc)[:100]
            bad = not (isinstance(outcome, int) and (200 <= outcome < 300 or 400 <= outcome < 500))
            with lock:
                if outcome == "ConnectionRefusedError":
                    down.setdefault(server, index)
                counts[label][outcome] += 1
                if note and not bad:
                    notes[note] += 1
                if bad:
                    failures.append({"label": label, "outcome": str(outcome), "note": note, "method": method, "path": path[:300],
                                     "headers": [[n, v[:300]] for n, v in headers], "chunked": chunked,
                                     "body_base64": base64.b64encode(body[:65536]).decode(), "body_bytes": len(body)})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The corpus: one request at a time, each with the answer class it must get.
    corpus_results = []
    for label, server, method, path, headers, body, expect in corpus(args.token):
        if server in down:
            corpus_results.append((label, "not sent: server down", expect, False))
            continue
        base = args.ingest if server == "ingest" else args.notifier
        try:
            outcome, _ = send(base, method, path, headers, body, False)
        except socket.timeout:
            outcome = "timeout"
        except EOFError:
            outcome = "closed without an answer"
        except (ConnectionResetError, ConnectionRefusedError) as exc:
            outcome = type(exc).__name__
            if outcome == "ConnectionRefusedError":
                down.setdefault(server, f"corpus request '{label}'")
        classes = expect.split("|")
        ok = isinstance(outcome, int) and f"{outcome // 100}xx" in classes
        corpus_results.append((label, outcome, expect, ok))
        if isinstance(outcome, int) and not (200 <= outcome < 300 or 400 <= outcome < 500) or not isinstance(outcome, int):
            failures.append({"label": "corpus: " + label, "outcome": str(outcome), "note": None, "method": method, "path": path[:300],
                             "headers": headers, "chunked": False, "body_base64": base64.b64encode(body[:65536]).decode(),
                             "body_bytes": len(body)})

    total = sum(sum(c.values()) for c in counts.values())
    by_status = collections.Counter()
    for c in counts.values():
        by_status.update(c)
    print(f"requests={total} failures={len(failures)}")
    print("by status: " + ", ".join(f"{k}: {n}" for k, n in sorted(by_status.items(), key=lambda kv: str(kv[0]))))
    for label in sorted(counts):
        print(f"  {label:<20} " + ", ".join(f"{k}: {n}" for k, n in sorted(counts[label].items(), key=lambda kv: str(kv[0]))))
    for server, index in sorted(down.items()):
        print(f"{server} refused connections from {index if isinstance(index, str) else f'random request {index}'} on: "
              "it is down (crashed?); nothing more was sent to it")
    for note, n in notes.most_common():
        print(f"  note: {note}: {n}")
    wrong = [r for r in corpus_results if not r[3]]
    print(f"corpus: {len(corpus_results)} hand-picked requests, {len(corpus_results) - len(wrong)} answered as they must")
    for label, outcome, expect, ok in corpus_results:
        if not ok:
            print(f"  WRONG: {label}: {outcome}, must be {expect}")
    if args.failures:
        with open(args.failures, "w") as f:
            for failure in failures:
                f.write(json.dumps(failure) + "\n")
    for failure in failures[:10]:
        print(f"PROBLEM: {failure['label']} {failure['method']} {failure['path'][:80]} -> {failure['outcome']} "
              f"({failure['body_bytes']} body bytes{', chunked' if failure['chunked'] else ''}{'; ' + failure['note'] if failure['note'] else ''})")
    return (1 if failures else 0) | (2 if wrong else 0)


if __name__ == "__main__":
    sys.exit(main())
