"""Live checks against a Prometheus that scrapes Alertron's services with deploy/prometheus:
every rule loaded and healthy, every rule and dashboard expression evaluated without error
through the HTTP API, the per-service panels have data, and each scraped /metrics passes
`promtool check metrics`. Standard library only; run through scripts/check-live-queries.sh.
"""
import argparse
import json
import math
import pathlib
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import dashboards  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULE_FILES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARD_FILES = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))


class Prometheus:
    def __init__(self, url, timeout):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def get(self, path, **params):
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        return self._read(urllib.request.Request(self.url + path + query))

    def post(self, path, **params):
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(self.url + path, data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        return self._read(request)

    def _read(self, request):
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                payload = json.loads(error.read())
            except ValueError:
                return None, "HTTP %d" % error.code
        except (urllib.error.URLError, OSError, ValueError) as error:
            return None, str(error)
        if payload.get("status") != "success":
            return None, "%s: %s" % (payload.get("errorType", "error"), payload.get("error", "unknown"))
        return payload.get("data"), None


def has_values(data):
    """True when a query result holds at least one number that is not NaN."""
    if not data:
        return False
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return not math.isnan(float(result[1]))
    for series in result or []:
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        if any(not math.isnan(float(value)) for _, value in points):
            return True
    return False


def rule_names_in_files():
    names = set()
    for path in RULE_FILES:
        names |= set(re.findall(r"^\s*-\s*(?:alert|record):\s*(\S+)", path.read_text(encoding="utf-8"), re.M))
    return names


def main(argv):
    parser = argparse.ArgumentParser(prog="check-live-queries.sh", description=__doc__.split("\n")[0])
    parser.add_argument("prometheus_url", help="e.g. http://127.0.0.1:9090")
    parser.add_argument("--warn-only", action="store_true",
                        help="report per-service panels without data, but do not fail on them")
    parser.add_argument("--rate-interval", default="1m",
                        help="value for Grafana's $__rate_interval (at least 4 scrape intervals; default 1m)")
    parser.add_argument("--window", type=int, default=900,
                        help="seconds of history in which a panel must have data (default 900)")
    parser.add_argument("--strict-metrics", action="store_true",
                        help="fail on `promtool check metrics` lint findings too, not only on parse errors")
    parser.add_argument("--timeout", type=float, default=10, help="seconds per HTTP request (default 10)")
    args = parser.parse_args(argv)
    prom = Prometheus(args.prometheus_url, args.timeout)
    errors, warnings, notes = [], [], []

    _, error = prom.get("/api/v1/status/buildinfo")
    if error:
        print("FAIL Prometheus at %s does not answer: %s" % (args.prometheus_url, error))
        return 1

    # Rules: ours are loaded, healthy, and their expressions evaluate.
    groups, error = prom.get("/api/v1/rules")
    wanted = rule_names_in_files()
    loaded = {}
    if error:
        errors.append("GET /api/v1/rules: " + error)
    else:
        for group in groups.get("groups", []):
            for rule in group.get("rules", []):
                loaded.setdefault(rule["name"], []).append(rule)
    for name in sorted(wanted - set(loaded)):
        errors.append("rule %s (deploy/prometheus/rules) is not loaded by this Prometheus" % name)
    evaluated = 0
    for name in sorted(wanted & set(loaded)):
        for rule in loaded[name]:
            if rule.get("health") == "err" or rule.get("lastError"):
                errors.append("rule %s: %s" % (name, rule.get("lastError") or "unhealthy"))
            _, error = prom.post("/api/v1/query", query=rule["query"])
            evaluated += 1
            if error:
                errors.append("rule %s: query failed: %s" % (name, error))
    print("rules: %d of %d loaded, %d expressions evaluated" % (len(wanted & set(loaded)), len(wanted), evaluated))

    # Dashboards: every expression evaluates; per-service panels have data in the window.
    now = time.time()
    step = max(1, args.window // 120)
    panel_data = {}
    for path in DASHBOARD_FILES:
        board = dashboards.load(path)
        for target in dashboards.targets(board):
            key = (path.name, target["panel_id"], target["panel"], target["service"])
            try:
                expr = dashboards.substitute(target["expr"], rate_interval=args.rate_interval)
            except ValueError as problem:
                errors.append("%s panel %r: %s" % (path.name, target["panel"], problem))
                continue
            if target["instant"]:
                data, error = prom.post("/api/v1/query", query=expr)
            else:
                data, error = prom.post("/api/v1/query_range", query=expr, start=now - args.window, end=now, step=step)
            if error:
                errors.append("%s panel %r %s: %s\n      %s" % (path.name, target["panel"], target["ref"], error, expr))
            panel_data[key] = panel_data.get(key, False) or has_values(data)
    empty_service = [key for key, has in panel_data.items() if not has and key[3]]
    empty_overview = [key for key, has in panel_data.items() if not has and not key[3]]
    print("dashboards: %d panels, %d queries evaluated" % (len(panel_data), sum(
        len(dashboards.targets(dashboards.load(p))) for p in DASHBOARD_FILES)))
    for board, _, title, service in empty_service:
        (warnings if args.warn_only else errors).append("%s: per-service panel %r (%s) has no data in the last %ds"
                                                        % (board, title, service, args.window))
    for board, _, title, _ in empty_overview:
        notes.append("%s: overview panel %r has no data in the last %ds" % (board, title, args.window))

    # Names the rules and dashboards read that Prometheus has never seen: created on first
    # use (errors, dead letters) or misspelt. Informational.
    names, error = prom.get("/api/v1/label/__name__/values")
    if not error:
        known = set(names) | set(loaded)
        used = set()
        for rules in loaded.values():
            for rule in rules:
                if rule["name"] in wanted:
                    used |= dashboards.metric_names(rule["query"])
        for path in DASHBOARD_FILES:
            for target in dashboards.targets(dashboards.load(path)):
                used |= dashboards.metric_names(dashboards.substitute(target["expr"], args.rate_interval))
        unseen = sorted(name for name in used if name not in known and name not in ("ALERTS", "ALERTS_FOR_STATE"))
        if unseen:
            notes.append("never exported so far (made on first use, e.g. errors; else misspelt): " + ", ".join(unseen))

    # Targets: every service target up, and its /metrics accepted by promtool.
    targets, error = prom.get("/api/v1/targets", state="active")
    promtool = shutil.which("promtool")
    if error:
        errors.append("GET /api/v1/targets: " + error)
    else:
        services = [t for t in targets.get("activeTargets", []) if t.get("labels", {}).get("job") in dashboards.SERVICES]
        for service in dashboards.SERVICES:
            if not any(t["labels"]["job"] == service for t in services):
                errors.append("no scrape target for job %s" % service)
        for target in services:
            label = "%s %s" % (target["labels"]["job"], target["scrapeUrl"])
            if target.get("health") != "up":
                errors.append("target %s is %s: %s" % (label, target.get("health"), target.get("lastError", "")))
                continue
            if not promtool:
                warnings.append("promtool not found: /metrics of %s not checked" % label)
                continue
            try:
                with urllib.request.urlopen(target["scrapeUrl"], timeout=args.timeout) as response:
                    body = response.read()
            except (urllib.error.URLError, OSError) as problem:
                errors.append("fetching %s: %s" % (label, problem))
                continue
            result = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
            findings = (result.stdout + result.stderr).decode(errors="replace").strip()
            if result.returncode == 0:
                continue
            if result.returncode == 3:
                message = "promtool check metrics %s: %s" % (label, findings.replace("\n", "; "))
                (errors if args.strict_metrics else warnings).append(message)
            else:
                errors.append("promtool check metrics %s failed (exit %d): %s" % (label, result.returncode, findings))
        print("targets: %d service targets checked" % len(services))

    for note in notes:
        print("note: " + note)
    for warning in warnings:
        print("WARN " + warning)
    for problem in errors:
        print("FAIL " + problem)
    print("check-live-queries: %s (%d errors, %d warnings)" % ("FAILED" if errors else "ok", len(errors), len(warnings)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
