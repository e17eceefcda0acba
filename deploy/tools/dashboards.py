"""The PromQL expressions of Alertron's Grafana dashboards, for offline parsing (promtool)
and live evaluation (Prometheus' HTTP API). Standard library only."""
import json
import pathlib
import re

SERVICES = ("ingest", "scorer", "notifier", "generator")
DATASOURCE_UID = "alertron-prometheus"


def load(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def panels_with_rows(dashboard):
    """Yields (row title, panel) for every non-row panel, in order (collapsed rows too)."""
    row = ""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            row = panel.get("title", "")
            for inner in panel.get("panels", []):
                yield row, inner
            continue
        yield row, panel


def service_of(row_title):
    """The service a per-service row is about ("scorer (...)" -> "scorer"), else None."""
    first = row_title.split(" ", 1)[0] if row_title else ""
    return first if first in SERVICES else None


def targets(dashboard):
    """Every Prometheus query as a dict: panel id and title, row, service, refId, expr."""
    found = []
    for row, panel in panels_with_rows(dashboard):
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if not expr:
                continue
            found.append({
                "panel_id": panel.get("id"),
                "panel": panel.get("title", ""),
                "row": row,
                "service": service_of(row),
                "ref": target.get("refId", "?"),
                "expr": expr,
                "instant": bool(target.get("instant")) and not target.get("range", False),
            })
    return found


def substitute(expr, rate_interval="1m", instance=".*"):
    """Replaces the Grafana variables the dashboards use with values Prometheus accepts."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("${__rate_interval}", rate_interval)
    expr = expr.replace("$__interval", rate_interval).replace("${__interval}", rate_interval)
    expr = expr.replace("${instance}", instance).replace("$instance", instance)
    leftover = re.findall(r"\$\{?[A-Za-z_][A-Za-z0-9_]*", expr)
    if leftover:
        raise ValueError("unknown dashboard variable(s) %s in: %s" % (", ".join(sorted(set(leftover))), expr))
    return expr


PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset", "atan2", "inf", "nan", "Inf", "NaN",
}


def metric_names(expr):
    """Metric names an expression reads (approximate lexing, enough for our expressions):
    selectors' names, and names given through __name__ matchers."""
    names = set()
    for match in re.finditer(r'__name__\s*=~?\s*"([^"]*)"', expr):
        names.update(part for part in match.group(1).split("|") if part)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "''", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\S+", " ", text)
    for match in re.finditer(r"(?<![\w:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names
