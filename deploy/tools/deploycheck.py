"""Offline checks of Alertron's deployment files that no upstream tool makes, and the
generated copies Kubernetes needs. Run by scripts/validate-deploy.sh with its virtualenv's
Python (PyYAML); each subcommand prints what it checked and exits non-zero on a problem.

  sync [--check]          write (or compare) the generated Kubernetes copies of the rules,
                          Prometheus, Alertmanager and Grafana files and the topic script
  dashboard-rules OUT     write every dashboard expression as a recording rule, for promtool
  k8s-files               list the manifests kubernetes-validate checks, and those skipped
  kustomize BASE KEDA     compare `kubectl kustomize` output of deploy/k8s and deploy/k8s-keda
                          with the manifests `kubectl apply -f deploy/k8s` applies
  lint COMPOSE_CONFIG     rules, tests, runbook, dashboards, metric names, Kubernetes and
                          compose consistency (COMPOSE_CONFIG: `docker-compose config` output)
"""
import json
import pathlib
import re
import sys

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import dashboards  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
NAMESPACE = "alertron"
PARTITIONS = 6
CRD_KINDS = {"ScaledObject", "ServiceMonitor", "PrometheusRule"}
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
GENERATED_CONFIGMAPS = K8S / "15-generated-configmaps.yaml"
GENERATED_PROMETHEUSRULE = K8S / "prometheus-operator" / "prometheusrule.yaml"
SERVICE_PORTS = {"ingest": 8080, "scorer": 8081, "notifier": 8082, "generator": 8083}
# Ingest is a StatefulSet: each replica keeps a persistent MQTT session under its pod name.
SERVICE_KINDS = {"ingest": "StatefulSet"}
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


class Problems:
    def __init__(self, title):
        self.title = title
        self.items = []
        self.checked = 0

    def ok(self, count=1):
        self.checked += count

    def add(self, message):
        self.items.append(message)

    def report(self):
        if self.items:
            print("FAIL %s: %d problem(s)" % (self.title, len(self.items)))
            for item in self.items:
                print("  - " + item)
            return False
        print("ok   %s (%d checks)" % (self.title, self.checked))
        return True


def rel(path):
    return str(pathlib.Path(path).resolve().relative_to(ROOT))


def load_docs(path):
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


# ---------------------------------------------------------------- generated copies

def literal_block(content, indent):
    """`content` as a YAML literal block scalar, indented by `indent` spaces."""
    if content == "":
        return '""'
    if content.endswith("\n\n"):
        header = "|+"
    elif content.endswith("\n"):
        header = "|"
    else:
        header = "|-"
    lines = content[:-1].split("\n") if content.endswith("\n") else content.split("\n")
    if header == "|+":
        lines = content.split("\n")[:-1]
    if lines and lines[0].startswith(" "):
        raise ValueError("a file starting with a space needs an indentation indicator")
    pad = " " * indent
    return header + "\n" + "\n".join(pad + line if line else "" for line in lines)


def keyed(files):
    """(key, path) pairs: a path's key is its file name unless given as (key, path)."""
    return [item if isinstance(item, tuple) else (item.name, item) for item in files]


def configmap(name, files, purpose):
    data = "\n".join("  %s: %s" % (key, literal_block(path.read_text(encoding="utf-8"), 4))
                     for key, path in keyed(files))
    return ("# %s\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n"
            "  labels:\n    app.kubernetes.io/part-of: alertron\ndata:\n%s\n") % (purpose, name, NAMESPACE, data)


def configmap_sources():
    prom = DEPLOY / "prometheus"
    grafana = DEPLOY / "grafana"
    return [
        ("prometheus-config", [("prometheus.yml", prom / "prometheus-k8s.yml")],
         "From deploy/prometheus/prometheus-k8s.yml."),
        ("prometheus-rules", RULES, "From deploy/prometheus/rules/*.yml."),
        ("alertmanager-config", [DEPLOY / "alertmanager" / "alertmanager.yml"],
         "From deploy/alertmanager/alertmanager.yml."),
        ("grafana-datasources", sorted((grafana / "provisioning" / "datasources").glob("*.yml")),
         "From deploy/grafana/provisioning/datasources/."),
        ("grafana-dashboard-providers", sorted((grafana / "provisioning" / "dashboards").glob("*.yml")),
         "From deploy/grafana/provisioning/dashboards/."),
        ("grafana-dashboards", DASHBOARDS, "From deploy/grafana/dashboards/."),
        ("redpanda-create-topics", [DEPLOY / "redpanda" / "create-topics.sh"], "From deploy/redpanda/create-topics.sh."),
        ("mosquitto-config", [DEPLOY / "mosquitto" / "mosquitto.conf", DEPLOY / "mosquitto" / "write-passwords.sh"],
         "From deploy/mosquitto/ (the broker's configuration and its password-file script)."),
    ]


def render_configmaps():
    header = ("# GENERATED by `deploy/tools/deploycheck.py sync` from the files each ConfigMap names:\n"
              "# edit those, then run it (scripts/validate-deploy.sh fails while this copy differs).\n"
              "# The same files serve compose and `make run`, so every way of running shares them.\n")
    return header + "---\n".join(configmap(*source) for source in configmap_sources())


def render_prometheusrule():
    groups = []
    for path in RULES:
        lines = path.read_text(encoding="utf-8").split("\n")
        start = lines.index("groups:")
        groups.extend("  " + line if line else "" for line in lines[start + 1:])
    while groups and not groups[-1]:
        groups.pop()
    return ("# GENERATED by `deploy/tools/deploycheck.py sync` from deploy/prometheus/rules/*.yml, for\n"
            "# Prometheus Operator users (with servicemonitor.yaml); edit the rules there.\n"
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: alertron\n"
            "  namespace: %s\n  labels:\n    app.kubernetes.io/part-of: alertron\nspec:\n  groups:\n%s\n"
            ) % (NAMESPACE, "\n".join(groups))


def generated_files():
    return {GENERATED_CONFIGMAPS: render_configmaps(), GENERATED_PROMETHEUSRULE: render_prometheusrule()}


def verify_generated(problems):
    """The generated YAML must parse back to exactly the source files' bytes."""
    for doc in load_docs(GENERATED_CONFIGMAPS):
        sources = {name: files for name, files, _ in configmap_sources()}
        files = sources.get(doc["metadata"]["name"], [])
        for key, path in keyed(files):
            if doc.get("data", {}).get(key) != path.read_text(encoding="utf-8"):
                problems.add("%s: ConfigMap %s key %s does not round-trip to %s"
                             % (rel(GENERATED_CONFIGMAPS), doc["metadata"]["name"], key, rel(path)))
            else:
                problems.ok()
    rule = load_docs(GENERATED_PROMETHEUSRULE)[0]
    expected = [group for path in RULES for group in load_docs(path)[0]["groups"]]
    if rule["spec"]["groups"] != expected:
        problems.add("%s: spec.groups differ from deploy/prometheus/rules" % rel(GENERATED_PROMETHEUSRULE))
    else:
        problems.ok()


def cmd_sync(args):
    check = "--check" in args
    problems = Problems("generated Kubernetes copies match their sources" if check else "sync")
    for path, text in generated_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            problems.ok()
            continue
        if check:
            problems.add("%s is out of date: run deploy/tools/deploycheck.py sync (with the virtualenv's python)"
                         % rel(path))
        else:
            path.write_text(text, encoding="utf-8")
            print("wrote " + rel(path))
    if not problems.items:
        verify_generated(problems)
    return problems.report()


# ---------------------------------------------------------------- dashboards

def cmd_dashboard_rules(args):
    out = pathlib.Path(args[0])
    rules = []
    problems = Problems("dashboard expressions written for promtool")
    for path in DASHBOARDS:
        board = dashboards.load(path)
        for target in dashboards.targets(board):
            try:
                expr = dashboards.substitute(target["expr"])
            except ValueError as error:
                problems.add("%s panel %r: %s" % (path.name, target["panel"], error))
                continue
            rules.append({"record": "dashboard_%s_panel_%s_%s" % (re.sub(r"\W", "_", path.stem), target["panel_id"],
                                                                   target["ref"]),
                          "expr": expr})
            problems.ok()
    out.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-expressions", "rules": rules}]}, sort_keys=False),
                   encoding="utf-8")
    return problems.report()


def lint_dashboards(problems):
    uids = set()
    for path in DASHBOARDS:
        text = path.read_text(encoding="utf-8")
        board = json.loads(text)
        name = path.name
        if re.search(r"\$\{DS_[A-Za-z0-9_]*\}", text) or "__inputs" in board:
            problems.add("%s: has ${DS_...} placeholders or __inputs (an export for sharing, not provisioning)" % name)
        if not board.get("uid") or board["uid"] in uids:
            problems.add("%s: missing or duplicate dashboard uid" % name)
        uids.add(board.get("uid"))
        if board.get("id") not in (None,):
            problems.add("%s: has a numeric id; provisioned dashboards must not" % name)
        variables = {v.get("name"): v for v in board.get("templating", {}).get("list", [])}
        instance = variables.get("instance")
        if not instance or instance.get("datasource", {}).get("uid") != dashboards.DATASOURCE_UID:
            problems.add("%s: no `instance` template variable on the provisioned datasource" % name)
        ids = [panel.get("id") for _, panel in dashboards.panels_with_rows(board)]
        if len(ids) != len(set(ids)):
            problems.add("%s: duplicate panel ids" % name)
        for row, panel in dashboards.panels_with_rows(board):
            sources = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]
            for source in sources:
                if source is not None and source.get("uid") != dashboards.DATASOURCE_UID:
                    problems.add("%s panel %r: datasource %r is not the provisioned uid %s"
                                 % (name, panel.get("title"), source, dashboards.DATASOURCE_UID))
            service = dashboards.service_of(row)
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                if service and 'job="%s"' % service not in expr:
                    problems.add("%s panel %r: a %s row query without job=\"%s\": %s"
                                 % (name, panel.get("title"), service, service, expr))
                if service and '$instance' not in expr:
                    problems.add("%s panel %r: a per-service query ignores $instance: %s"
                                 % (name, panel.get("title"), expr))
            problems.ok()
        if name == "alertron-overview.json":
            if board.get("title") != "Alertron overview":
                problems.add("%s: title is not \"Alertron overview\"" % name)
            rows = {dashboards.service_of(panel.get("title", ""))
                    for panel in board.get("panels", []) if panel.get("type") == "row"}
            for service in dashboards.SERVICES:
                if service not in rows:
                    problems.add("%s: no row for %s" % (name, service))
                kinds = {p.get("title", "").split(": ", 1)[-1] for r, p in dashboards.panels_with_rows(board)
                         if dashboards.service_of(r) == service}
                for kind in ("rate", "errors", "latency", "saturation"):
                    if kind not in kinds:
                        problems.add("%s: the %s row has no %s panel" % (name, service, kind))
            text_all = " ".join(t["expr"] for t in dashboards.targets(board))
            for must in ("process_resident_memory_bytes", "alertron_kafka_consumer_lag_messages"):
                if must not in text_all:
                    problems.add("%s: no panel shows %s" % (name, must))


# ---------------------------------------------------------------- rules, tests, runbook

def github_anchor(heading):
    anchor = heading.strip().lower()
    anchor = re.sub(r"[^\w\- ]", "", anchor)
    return anchor.replace(" ", "-")


def rule_entries():
    for path in RULES:
        for group in load_docs(path)[0]["groups"]:
            for rule in group["rules"]:
                yield path, rule


def lint_rules(problems):
    runbook = ROOT / "RUNBOOK.md"
    anchors = set()
    if runbook.exists():
        anchors = {github_anchor(line.lstrip("#")) for line in runbook.read_text(encoding="utf-8").splitlines()
                   if line.startswith("## ")}
    else:
        problems.add("RUNBOOK.md is missing")
    alerts = {}
    for path, rule in rule_entries():
        if "alert" not in rule:
            continue
        name = rule["alert"]
        alerts.setdefault(name, []).append(rule)
        where = "%s %s" % (path.name, name)
        if not rule.get("for"):
            problems.add(where + ": no `for:`")
        severity = rule.get("labels", {}).get("severity")
        if severity not in ("warning", "critical"):
            problems.add(where + ": severity %r is not warning or critical" % severity)
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.add(where + ": no annotation " + key)
        url = annotations.get("runbook_url", "")
        match = re.fullmatch(r"RUNBOOK\.md#([a-z0-9\-_]+)", url)
        if not match or match.group(1) not in anchors:
            problems.add(where + ": runbook_url %r is not a section of RUNBOOK.md" % url)
        problems.ok()
    # Every alert has a test in which it fires and one in which it stays quiet.
    fired, quiet = set(), set()
    for path in TESTS:
        doc = load_docs(path)[0]
        for test in doc.get("tests", []):
            for case in test.get("alert_rule_test", []) or []:
                (fired if case.get("exp_alerts") else quiet).add(case.get("alertname"))
    for name in alerts:
        if name not in fired:
            problems.add("alert %s: no promtool test where it fires" % name)
        if name not in quiet:
            problems.add("alert %s: no promtool test where it stays quiet" % name)
        problems.ok()
    for required in ("HighAnomalyRate", "CriticalLogAlert"):
        if required not in alerts:
            problems.add("alert %s is missing" % required)
    for rule in alerts.get("CriticalLogAlert", []):
        if "increase(log_severity_total" not in rule["expr"]:
            problems.add("CriticalLogAlert must use increase(log_severity_total{...}[window])")


# ---------------------------------------------------------------- metric names

def catalog_names():
    """Metric names the services document in their catalogs (help text dictionaries)."""
    names = set()
    catalogs = {}
    for source in list((ROOT / "services").glob("*/Sources/**/*.swift")) + list((ROOT / "shared" / "Sources").glob("**/*.swift")):
        text = source.read_text(encoding="utf-8", errors="replace")
        found = set(re.findall(r'"([a-z_][a-z0-9_]*)"\s*:\s*"', text))
        names |= found
        if "MetricsCatalog(help" in text:
            service = source.parts[len(ROOT.parts) + 1] if source.parts[len(ROOT.parts)] == "services" else "shared"
            catalogs.setdefault(service, set()).update(found)
    return names, catalogs


BUILTIN_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}


def lint_metric_names(problems):
    names, catalogs = catalog_names()
    recorded = {rule["record"] for _, rule in rule_entries() if "record" in rule}
    used = {}
    for _, rule in rule_entries():
        for name in dashboards.metric_names(rule["expr"]):
            used.setdefault(name, set()).add("rule " + rule.get("alert", rule.get("record")))
    for path in DASHBOARDS:
        for target in dashboards.targets(dashboards.load(path)):
            for name in dashboards.metric_names(dashboards.substitute(target["expr"])):
                used.setdefault(name, set()).add("panel %r" % target["panel"])
    skipped = []
    for name, users in sorted(used.items()):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in BUILTIN_SERIES or name in recorded or name in names or base in names:
            problems.ok()
            continue
        service = name.split("_")[1] if name.startswith("alertron_") else None
        if service in SERVICE_PORTS and service not in catalogs:
            skipped.append(name)
            continue
        problems.add("%s (used by %s) is in no service's metrics catalog" % (name, ", ".join(sorted(users))))
    if skipped:
        print("SKIP metric names of services that have no metrics catalog yet (not checked): " + ", ".join(skipped))


# ---------------------------------------------------------------- Kubernetes

def k8s_documents():
    """(path, document) of every manifest under deploy/k8s, subfolders included."""
    docs = []
    for path in sorted(K8S.rglob("*")):
        if path.is_file() and (path.suffix in (".yaml", ".yml") or path.name in KUSTOMIZATION_NAMES):
            for doc in load_docs(path):
                docs.append((path, doc))
    return docs


def cmd_k8s_files(args):
    validate, skipped = [], []
    for path in sorted(K8S.rglob("*")):
        if not path.is_file() or not (path.suffix in (".yaml", ".yml") or path.name in KUSTOMIZATION_NAMES):
            continue
        kinds = {doc.get("kind") for doc in load_docs(path)}
        if path.name in KUSTOMIZATION_NAMES or kinds == {"Kustomization"}:
            skipped.append((path, "Kustomization: not an API object (rendered with `kubectl kustomize` when available)"))
        elif kinds & CRD_KINDS:
            if kinds - CRD_KINDS:
                print("FAIL %s mixes custom resources with built-in kinds; keep CRDs in their own files" % rel(path))
                return False
            skipped.append((path, "%s: custom resource, no schema bundled with kubernetes-validate" % ", ".join(sorted(kinds))))
        else:
            validate.append(path)
    for path in validate:
        print("validate " + rel(path))
    for path, why in skipped:
        print("skip " + rel(path) + " -- " + why)
    return True


def pod_spec(doc):
    kind = doc.get("kind")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return doc["spec"]["template"]["spec"]
    return None


def template_labels(doc):
    return doc["spec"]["template"]["metadata"].get("labels", {})


def lint_k8s(problems):
    docs = k8s_documents()
    top = [(path, doc) for path, doc in docs if path.parent == K8S]
    top_files = sorted({path for path, _ in top if path.suffix in (".yaml", ".yml")})
    # Numeric prefixes: `kubectl apply -f` applies files in name order, namespace first.
    for path in top_files:
        if not re.match(r"\d\d-", path.name):
            problems.add("%s: top-level manifests need a numeric prefix (apply order)" % rel(path))
    if not top_files or [d.get("kind") for p, d in top if p == top_files[0]] != ["Namespace"]:
        problems.add("the first manifest in name order must hold only the Namespace")
    # Kustomization lists exactly the files `kubectl apply -f` applies.
    kustomizations = [path for path in K8S.iterdir() if path.name in KUSTOMIZATION_NAMES]
    if len(kustomizations) != 1:
        problems.add("deploy/k8s needs exactly one kustomization file, found %d" % len(kustomizations))
    else:
        if kustomizations[0].suffix in (".yaml", ".yml"):
            problems.add("%s: `kubectl apply -f deploy/k8s` would try to apply it; name it Kustomization" % rel(kustomizations[0]))
        listed = load_docs(kustomizations[0])[0].get("resources", [])
        if sorted(listed) != [path.name for path in top_files]:
            problems.add("Kustomization resources %s differ from the files `kubectl apply -f` applies %s"
                         % (listed, [path.name for path in top_files]))
        problems.ok()

    workloads = {}
    configmaps, services = set(), {}
    secret_keys = set()
    for path, doc in docs:
        kind, meta = doc.get("kind"), doc.get("metadata", {})
        name = meta.get("name")
        if kind not in ("Namespace", "Kustomization", "Component") and meta.get("namespace") != NAMESPACE:
            problems.add("%s %s/%s: namespace is %r, not %s" % (rel(path), kind, name, meta.get("namespace"), NAMESPACE))
        if kind == "ConfigMap":
            configmaps.add(name)
        if kind == "Secret":
            if path.parent == K8S:
                problems.add("%s: a Secret among the applied manifests would overwrite real values on re-apply" % rel(path))
            secret_keys |= set((doc.get("stringData") or {}).keys()) | set((doc.get("data") or {}).keys())
            for key, value in (doc.get("stringData") or {}).items():
                if value:
                    problems.add("%s: the template holds a value for %s; keep templates empty" % (rel(path), key))
        if kind == "Service":
            services[name] = (path, doc)
        if pod_spec(doc) is not None:
            workloads[(kind, name)] = (path, doc)

    def secret_refs(spec):
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    yield ref["name"], ref["key"]
        for volume in spec.get("volumes", []):
            secret = volume.get("secret")
            if secret:
                for item in secret.get("items", []):
                    yield secret["secretName"], item["key"]

    for (kind, name), (path, doc) in workloads.items():
        spec = pod_spec(doc)
        where = "%s %s/%s" % (rel(path), kind, name)
        if kind != "Job":
            selector = doc["spec"]["selector"]["matchLabels"]
            if any(template_labels(doc).get(k) != v for k, v in selector.items()):
                problems.add(where + ": selector does not match the pod template's labels")
        pod_security = spec.get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True or not isinstance(pod_security.get("runAsUser"), int) \
                or pod_security.get("runAsUser", 0) <= 0:
            problems.add(where + ": pod needs runAsNonRoot: true and a numeric non-zero runAsUser")
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.add(where + ": pod needs seccompProfile RuntimeDefault")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for claim in doc["spec"].get("volumeClaimTemplates", []):
            volumes[claim["metadata"]["name"]] = {"persistentVolumeClaim": {}}
        for volume in volumes.values():
            source = volume.get("configMap")
            if source and source["name"] not in configmaps:
                problems.add(where + ": ConfigMap %s is not among the manifests" % source["name"])
        for container in spec["containers"]:
            cwhere = "%s container %s" % (where, container["name"])
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.add(cwhere + ": allowPrivilegeEscalation must be false")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.add(cwhere + ": capabilities must drop ALL")
            image = container.get("image", "")
            if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                problems.add(cwhere + ": image %r is not pinned to a tag" % image)
            resources = container.get("resources", {})
            if not resources.get("requests") or not resources.get("limits", {}).get("memory"):
                problems.add(cwhere + ": needs resource requests and a memory limit")
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef")
                if ref and ref["name"] not in configmaps:
                    problems.add(cwhere + ": ConfigMap %s is not among the manifests" % ref["name"])
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes:
                    problems.add(cwhere + ": mounts undefined volume %s" % mount["name"])
            if name in SERVICE_PORTS:
                if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                    problems.add(cwhere + ": readinessProbe must GET /readyz")
                if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                    problems.add(cwhere + ": livenessProbe must GET /healthz")
                if security.get("readOnlyRootFilesystem") is not True:
                    problems.add(cwhere + ": readOnlyRootFilesystem must be true")
                tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
                if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
                    problems.add(cwhere + ": needs an emptyDir at /tmp")
                ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
                if ports.get("http") != SERVICE_PORTS[name]:
                    problems.add(cwhere + ": container port http must be %d" % SERVICE_PORTS[name])
                if spec.get("enableServiceLinks") is not False:
                    problems.add(where + ": enableServiceLinks must be false (KAFKA_* variables are librdkafka settings)")
        for secret, key in secret_refs(spec):
            if secret != "alertron-secrets" or key not in secret_keys:
                problems.add(where + ": secret %s key %s is not in secret-template/" % (secret, key))
        problems.ok()

    for name in SERVICE_PORTS:
        kind = SERVICE_KINDS.get(name, "Deployment")
        if (kind, name) not in workloads:
            problems.add("no %s for %s" % (kind, name))
        for other in {"Deployment", "StatefulSet"} - {kind}:
            if (other, name) in workloads:
                problems.add("%s %s: %s must be a %s" % (rel(workloads[(other, name)][0]), other, name, kind))
        for service in (name, name + "-pods"):
            if service not in services:
                problems.add("no Service %s" % service)
    lint_statefulsets(problems, workloads, services)
    lint_mqtt_sessions(problems, workloads)
    for name, (path, doc) in services.items():
        selector = doc["spec"].get("selector", {})
        matches = [w for w in workloads.values() if all(template_labels(w[1]).get(k) == v for k, v in selector.items())]
        if not matches:
            problems.add("%s Service/%s selects no workload" % (rel(path), name))
            continue
        container_ports = {p.get("name") for _, w in matches for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
        for port in doc["spec"].get("ports", []):
            if not port.get("name"):
                problems.add("%s Service/%s: unnamed port" % (rel(path), name))
            if isinstance(port.get("targetPort"), str) and port["targetPort"] not in container_ports:
                problems.add("%s Service/%s: targetPort %s is no container port name" % (rel(path), name, port["targetPort"]))
        problems.ok()

    for path, doc in docs:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        if kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = doc["spec"]["scaleTargetRef"]["name"]
            found = workloads.get(("Deployment", target))
            maximum = doc["spec"].get("maxReplicas", doc["spec"].get("maxReplicaCount"))
            if not found:
                problems.add("%s %s/%s scales missing Deployment %s" % (rel(path), kind, name, target))
            elif "replicas" in found[1]["spec"]:
                problems.add("%s: autoscaled Deployment %s must not set spec.replicas" % (rel(found[0]), target))
            if not isinstance(maximum, int) or maximum > PARTITIONS:
                problems.add("%s %s/%s: max replicas %r exceeds the %d partitions of readings"
                             % (rel(path), kind, name, maximum, PARTITIONS))
            problems.ok()
        if kind == "PodDisruptionBudget":
            selector = doc["spec"]["selector"]["matchLabels"]
            if not any(all(template_labels(w[1]).get(k) == v for k, v in selector.items()) for w in workloads.values()):
                problems.add("%s PodDisruptionBudget/%s selects no workload" % (rel(path), name))
            problems.ok()
    kinds = {doc.get("kind") for _, doc in top}
    for required in ("Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
                     "PodDisruptionBudget", "StatefulSet", "Job"):
        if required not in kinds:
            problems.add("no %s among the applied manifests" % required)


def lint_statefulsets(problems, workloads, services):
    """A StatefulSet's serviceName is a headless Service among the manifests selecting its pods."""
    for (kind, name), (path, doc) in workloads.items():
        if kind != "StatefulSet":
            continue
        governing = doc["spec"].get("serviceName")
        found = services.get(governing)
        if not found:
            problems.add("%s StatefulSet/%s: serviceName %r is no Service among the manifests" % (rel(path), name, governing))
            continue
        spec = found[1]["spec"]
        if spec.get("clusterIP") != "None":
            problems.add("%s StatefulSet/%s: serviceName %s is not a headless Service (clusterIP: None)"
                         % (rel(path), name, governing))
        if any(template_labels(doc).get(k) != v for k, v in spec.get("selector", {}).items()):
            problems.add("%s StatefulSet/%s: Service %s does not select its pods" % (rel(path), name, governing))
        problems.ok()


def container_env(container):
    return {env["name"]: env for env in container.get("env", [])}


def lint_mqtt_sessions(problems, workloads):
    """A workload subscribing to MQTT (MQTT_TOPICS) with more than one replica: a StatefulSet whose
    replicas each keep their own persistent session (MQTT_CLIENT_ID from the pod name) and split
    the messages between them (every filter a $share/<group>/ subscription)."""
    for (kind, name), (path, doc) in workloads.items():
        for container in pod_spec(doc)["containers"]:
            env = container_env(container)
            if "MQTT_TOPICS" not in env:
                continue
            where = "%s %s/%s container %s" % (rel(path), kind, name, container["name"])
            if doc["spec"].get("replicas", 1) == 1 and kind != "StatefulSet":
                problems.ok()
                continue
            if kind != "StatefulSet":
                problems.add(where + ": several replicas subscribing to MQTT need stable client ids: a StatefulSet")
            client_id = env.get("MQTT_CLIENT_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if client_id != "metadata.name":
                problems.add(where + ": MQTT_CLIENT_ID must come from the pod name (fieldRef metadata.name)")
            filters = [f.strip() for f in str(env["MQTT_TOPICS"].get("value", "")).split(",") if f.strip()]
            if not filters or not all(re.match(r"\$share/[^/+#]+/.", f) for f in filters):
                problems.add(where + ": MQTT_TOPICS %r: every filter must be a $share/<group>/ subscription"
                             % env["MQTT_TOPICS"].get("value"))
            problems.ok()


# ---------------------------------------------------------------- compose and the Dockerfile

def dockerfile_instructions(text):
    """(KEYWORD, arguments) per instruction: comments dropped, continuation lines joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_stages(text):
    """The global ARG defaults, and the stages as dicts: base, name, instructions."""
    globals_, stages = {}, []
    for keyword, arguments in dockerfile_instructions(text):
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append({"base": words[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, arguments))
        elif keyword == "ARG":
            name, _, default = arguments.partition("=")
            globals_[name] = default or None
    return globals_, stages


def copy_paths(arguments):
    """A COPY's sources from the build context (none with --from) and its destination."""
    words = arguments.split()
    flags = [word for word in words if word.startswith("--")]
    paths = [word for word in words if not word.startswith("--")]
    if any(flag.startswith("--from=") for flag in flags):
        return [], paths[-1]
    return paths[:-1], paths[-1]


def substitute(value, variables):
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1)) or "", value)


def runtime_chain(stages, variables):
    """The stages an image is made of, its base image first (FROM a stage name follows it),
    and the image the chain starts from."""
    by_name = {stage["name"]: stage for stage in stages if stage["name"]}
    chain, stage = [], stages[-1]
    while True:
        chain.insert(0, stage)
        base = substitute(stage["base"], variables)
        if base not in by_name or by_name[base] in chain:
            return chain, base
        stage = by_name[base]


def lint_dockerfile(problems, healthcheck_tools):
    """deploy/docker/Dockerfile, as built for each SERVICE: multi-stage, a runtime image with
    the C libraries (and the healthcheck's tool), a numeric non-root user, the service's
    entrypoint and port, the scorer's default models; base images pinned."""
    where = rel(DOCKERFILE)
    if not DOCKERFILE.exists():
        problems.add("%s is missing" % where)
        return
    globals_, stages = dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))
    if len(stages) < 2:
        problems.add("%s: not multi-stage" % where)
        return
    if "SERVICE" not in globals_:
        problems.add("%s: no global ARG SERVICE" % where)
    for arg in {ref for stage in stages for ref in re.findall(r"\$\{?(\w+)", stage["base"])}:
        image = globals_.get(arg)
        if image is not None and (":" not in image or image.endswith(":latest")):
            problems.add("%s: base image %s=%s is not pinned" % (where, arg, image))
    problems.ok()
    build_images = {stage["base"] for stage in stages
                    if any(k == "RUN" and "swift build" in a for k, a in stage["instructions"])}
    for name, port in SERVICE_PORTS.items():
        variables = dict(globals_, SERVICE=name)
        label = "%s (SERVICE=%s)" % (where, name)
        chain, image = runtime_chain(stages, variables)
        final_base = substitute(stages[-1]["base"], variables)
        if len(chain) < 2:
            problems.add("%s: the final FROM %s names no stage" % (label, final_base))
            continue
        if image in {substitute(base, variables) for base in build_images}:
            problems.add("%s: the image starts from the build image %s" % (label, image))
        for keyword, arguments in (i for stage in stages for i in stage["instructions"]):
            if keyword == "COPY":
                for source in copy_paths(substitute(arguments, variables))[0]:
                    if not (ROOT / source).exists():
                        problems.add("%s: COPY source %s does not exist" % (label, source))
        instructions = [(k, substitute(a, variables)) for stage in chain for k, a in stage["instructions"]]
        installed = " ".join(a for k, a in instructions if k == "RUN")
        for package in ("librdkafka1", "libcurl4", "ca-certificates") + tuple(sorted(healthcheck_tools.get(name, ()))):
            if not re.search(r"(^|\s)%s(\s|$)" % re.escape(package), installed):
                problems.add("%s: the runtime image lacks %s" % (label, package))
        users = [a for k, a in instructions if k == "USER"]
        if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
            problems.add("%s: the final USER must be numeric and not root" % label)
        entrypoints = [a for k, a in instructions if k == "ENTRYPOINT"]
        if not entrypoints or entrypoints[-1] != '["/usr/local/bin/%s"]' % name:
            problems.add("%s: ENTRYPOINT %s, expected [\"/usr/local/bin/%s\"]"
                         % (label, entrypoints[-1] if entrypoints else "missing", name))
        copied = [copy_paths(a)[1] for k, a in instructions if k == "COPY"]
        if "/usr/local/bin/%s" % name not in copied:
            problems.add("%s: nothing is copied to /usr/local/bin/%s" % (label, name))
        env = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for k, a in instructions if k == "ENV")))
        exposed = " ".join(a for k, a in instructions if k == "EXPOSE").split()
        if env.get("PORT") != str(port) or str(port) not in exposed:
            problems.add("%s: PORT %s and EXPOSE %s, expected %d"
                         % (label, env.get("PORT"), " ".join(exposed) or "none", port))
        if name == "scorer":
            for variable in ("MODEL_PATH", "LOG_MODEL_PATH"):
                path = env.get(variable)
                if not path or not any(path.startswith(dest.rstrip("/") + "/") for dest in copied):
                    problems.add("%s: %s %s is not in a copied folder" % (label, variable, path))
                elif not any(k == "RUN" and "/" + path.rsplit("/", 1)[-1] in a
                             for stage in stages for k, a in stage["instructions"]):
                    problems.add("%s: no build step writes %s's %s" % (label, variable, path.rsplit("/", 1)[-1]))
        problems.ok()


def lint_dockerignore(problems):
    """.dockerignore exists, and keeps in the build context what the Dockerfile copies."""
    ignore = ROOT / ".dockerignore"
    if not ignore.exists():
        problems.add(".dockerignore is missing")
        return
    lines = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]
    if "*" in lines and DOCKERFILE.exists():
        for keyword, arguments in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")):
            if keyword != "COPY":
                continue
            for source in copy_paths(arguments)[0]:
                top = source.split("/", 1)[0]
                if "!%s/" % top not in lines and "!%s" % top not in lines:
                    problems.add(".dockerignore leaves out %s, which %s copies" % (source, rel(DOCKERFILE)))
    problems.ok()


def lint_compose(problems, config_path):
    config = yaml.safe_load(pathlib.Path(config_path).read_text(encoding="utf-8"))
    compose_dir = DEPLOY / "compose"
    healthcheck_tools = {}
    for name, service in config.get("services", {}).items():
        image = service.get("image", "")
        build = service.get("build")
        if build:
            dockerfile = pathlib.Path(build["context"]) / build.get("dockerfile", "Dockerfile")
            if not dockerfile.exists():
                problems.add("compose %s: Dockerfile %s does not exist" % (name, dockerfile))
            if name in SERVICE_PORTS:
                if dockerfile.resolve() != DOCKERFILE:
                    problems.add("compose %s: builds from %s, not %s" % (name, dockerfile, rel(DOCKERFILE)))
                if (build.get("args") or {}).get("SERVICE") != name:
                    problems.add("compose %s: build arg SERVICE is %r, expected %r"
                                 % (name, (build.get("args") or {}).get("SERVICE"), name))
        elif ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            problems.add("compose %s: image %r is not pinned to a tag" % (name, image))
        for volume in service.get("volumes", []):
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":", 1)[0]
            kind = volume.get("type") if isinstance(volume, dict) else ("bind" if source.startswith(("/", ".")) else "volume")
            if kind == "bind" and not (compose_dir / source).exists():
                problems.add("compose %s: bind mount source %s does not exist" % (name, source))
        if "healthcheck" not in service and name != "redpanda-init":
            problems.add("compose %s: no healthcheck" % name)
        test = (service.get("healthcheck") or {}).get("test") or []
        if isinstance(test, list) and len(test) > 1 and test[0] == "CMD":
            healthcheck_tools.setdefault(name, set()).add(test[1])
        if name in SERVICE_PORTS:
            conditions = {dep: spec.get("condition") for dep, spec in service.get("depends_on", {}).items()}
            if conditions.get("redpanda-init") != "service_completed_successfully":
                problems.add("compose %s: must wait for redpanda-init to complete" % name)
        problems.ok()
    lint_dockerfile(problems, healthcheck_tools)
    lint_dockerignore(problems)
    lint_shared_images(problems, config)
    # file_sd target files: promtool parses them but does not check the addresses.
    for folder, host in ((DEPLOY / "prometheus" / "targets", "127.0.0.1"), (DEPLOY / "compose" / "prometheus-targets", None)):
        for job, port in list(SERVICE_PORTS.items()) + [("prometheus", 9090), ("alertmanager", 9093)]:
            path = folder / (job + ".yml")
            if not path.exists():
                problems.add("%s: missing (Prometheus scrapes job %s from it)" % (rel(path), job))
                continue
            groups = load_docs(path)[0] or []
            addresses = [address for group in groups for address in group.get("targets", [])]
            expected = "%s:%d" % (host or ("localhost" if job == "prometheus" else job), port)
            if addresses != [expected]:
                problems.add("%s: targets %s, expected [%s]" % (rel(path), addresses, expected))
            problems.ok()


def lint_shared_images(problems, config):
    """An image that compose and Kubernetes both run (Redpanda, Mosquitto, Prometheus, ...) has
    the same tag in both."""
    tags = {}
    for name, service in config.get("services", {}).items():
        if service.get("image"):
            tags.setdefault(service["image"].rsplit(":", 1)[0], set()).add((service["image"], "compose " + name))
    for path, doc in k8s_documents():
        spec = pod_spec(doc)
        if spec is None:
            continue
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            image = container.get("image", "")
            tags.setdefault(image.rsplit(":", 1)[0], set()).add(
                (image, "%s %s/%s" % (rel(path), doc["kind"], doc["metadata"]["name"])))
    for repository, uses in sorted(tags.items()):
        if len({image for image, _ in uses}) > 1:
            problems.add("image %s has different tags: %s"
                         % (repository, "; ".join("%s in %s" % use for use in sorted(uses))))
        problems.ok()


def cmd_kustomize(args):
    """Compares `kubectl kustomize` output (base, KEDA overlay) with the applied manifests."""
    base_path, keda_path = args
    problems = Problems("kustomize builds: -k applies exactly what -f applies; the KEDA overlay swaps the HPA")
    applied = {(d["kind"], d["metadata"]["name"]): d for p, d in k8s_documents()
               if p.parent == K8S and d.get("kind") not in ("Kustomization", "Component")}
    rendered = {(d["kind"], d["metadata"]["name"]): d for d in load_docs(base_path)}
    if set(rendered) != set(applied):
        problems.add("kubectl kustomize deploy/k8s renders %s; kubectl apply -f applies %s"
                     % (sorted(set(rendered) - set(applied)), sorted(set(applied) - set(rendered))))
    for key, doc in applied.items():
        if key in rendered and rendered[key] != doc:
            problems.add("%s/%s differs between -k and -f" % key)
        problems.ok()
    keda = {(d["kind"], d["metadata"]["name"]) for d in load_docs(keda_path)}
    expected = (set(applied) - {("HorizontalPodAutoscaler", "scorer")}) | {("ScaledObject", "scorer")}
    if keda != expected:
        problems.add("kubectl kustomize deploy/k8s-keda: unexpected objects %s, missing %s"
                     % (sorted(keda - expected), sorted(expected - keda)))
    problems.ok()
    return problems.report()


def cmd_lint(args):
    results = []
    for title, check in (("alert rules, their tests and RUNBOOK.md sections", lint_rules),
                         ("dashboards: uid, datasource, instance variable, per-service rows", lint_dashboards),
                         ("metric names used by rules and dashboards exist in the services' catalogs", lint_metric_names),
                         ("Kubernetes manifests: order, references, probes, security, autoscaling, MQTT sessions",
                          lint_k8s)):
        problems = Problems(title)
        check(problems)
        results.append(problems.report())
    problems = Problems("compose services, bind mounts, the Dockerfile per service, .dockerignore, Prometheus target files, "
                        "image tags shared with Kubernetes")
    lint_compose(problems, args[0])
    results.append(problems.report())
    return all(results)


def main(argv):
    commands = {"sync": cmd_sync, "dashboard-rules": cmd_dashboard_rules, "k8s-files": cmd_k8s_files,
                "kustomize": cmd_kustomize, "lint": cmd_lint}
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__)
        return 2
    return 0 if commands[argv[1]](argv[2:]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
