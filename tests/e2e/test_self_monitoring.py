"""The Prometheus rules and the Grafana dashboard shipped in deploy/ read metrics that NightOwl really exports."""
import json
import pathlib
import re

import requests
import yaml

from conftest import free_port, metric_samples, run_owl, service_env, wait_for

DEPLOY = pathlib.Path(__file__).resolve().parents[2] / "deploy"
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


def metric_names(expr: str) -> set:
    return set(re.findall(r"\b(nightowl_[a-z0-9_]+)", expr))


def exported(name: str, families: dict) -> bool:
    if name in families:
        return True
    base = next((name[: -len(s)] for s in HISTOGRAM_SERIES if name.endswith(s)), None)
    return base is not None and families.get(base) == "histogram"


def test_rules_and_dashboard_read_metrics_that_exist(owl, fresh_database, services):
    port = free_port()
    env = service_env("NIGHTOWL", fresh_database, port)
    run_owl(owl, ["nightowl", "--mode", "migrate"], env)
    services(owl, ["nightowl", "--mode", "api"], env)
    services(owl, ["nightowl", "--mode", "worker"], env)
    status = f"http://{env['NIGHTOWL_METRICS_LISTEN']}"
    wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok)
    wait_for(lambda: requests.get(f"{status}/healthz", timeout=2).ok)
    requests.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=5)  # a request, so the API's histogram has a series
    families = {}
    for url in (f"http://127.0.0.1:{port}/metrics", f"{status}/metrics"):
        families.update({name: kind for (name, labels), kind in metric_samples(requests.get(url, timeout=5).text).items() if labels is None})

    rules = yaml.safe_load((DEPLOY / "prometheus" / "nightowl-rules.yml").read_text())
    checked = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["alert"].startswith("NightOwl") and rule["labels"]["severity"] in ("critical", "warning"), rule
            assert rule["annotations"]["summary"], rule
            names = metric_names(rule["expr"]) | metric_names(rule["annotations"].get("description", ""))
            assert names, rule["alert"]
            missing = {n for n in names if not exported(n, families)}
            assert not missing, f"{rule['alert']} reads metrics NightOwl does not export: {missing}"
            checked |= names

    dashboard = json.loads((DEPLOY / "grafana" / "nightowl-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            missing = {n for n in metric_names(target["expr"]) if not exported(n, families)}
            assert not missing, f"panel {panel['title']!r} reads metrics NightOwl does not export: {missing}"
            checked |= metric_names(target["expr"])
    # Every alerting series of the worker is watched by a rule or a panel.
    assert {"nightowl_notifications_total", "nightowl_job_last_success_timestamp_seconds", "nightowl_notification_oldest_overdue_seconds",
            "nightowl_job_runs_total", "nightowl_alerts_escalated_total"} <= checked
    assert not exported("nightowl_not_a_metric", families)
