"""deploy/grafana/notifierd.json: a dashboard Grafana imports — its data source an input and
a variable, a replica variable — whose every panel queries metrics the daemon exports."""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

from tests.conftest import ROOT
from tests.exported_metrics import promql_metric_names, unknown_metrics

DASHBOARD = ROOT / "deploy" / "grafana" / "notifierd.json"
Panel = dict[str, Any]


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels() -> list[Panel]:
    """Every panel but the rows that group them."""
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def variables() -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard()["templating"]["list"]}


def test_imports_with_a_prometheus_data_source_input() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 39
    [source] = board["__inputs"]
    assert (source["name"], source["pluginId"]) == ("DS_PROMETHEUS", "prometheus")
    datasource = variables()["datasource"]
    assert (datasource["type"], datasource["query"]) == ("datasource", "prometheus")
    assert datasource["current"]["value"] == "${DS_PROMETHEUS}"
    assert variables()["instance"]["type"] == "query"


def test_every_panel_has_a_data_source_and_a_query() -> None:
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            # Each query follows the replica picker.
            if promql_metric_names(target["expr"]):
                assert 'instance=~"$instance"' in target["expr"], panel["title"]


def test_queries_read_only_metrics_the_daemon_exports() -> None:
    exprs = {f"{p['title']} {t['refId']}": t["expr"] for p in panels() for t in p["targets"]}
    exprs["variable instance"] = variables()["instance"]["definition"]
    assert unknown_metrics(exprs) == {}


def test_it_shows_what_operators_ask_about() -> None:
    read = set().union(*(promql_metric_names(t["expr"]) for p in panels() for t in p["targets"]))
    assert {
        "notifierd_requests_total",  # throughput
        "notifierd_delivery_latency_seconds_bucket",  # latency by channel
        "notifierd_retries_total",
        "notifierd_dead_letters_total",
        "notifierd_escalation_lateness_seconds_bucket",  # escalation lag
        "notifierd_rate_limit_wait_seconds_total",  # rate-limit holds
        "notifierd_config_reloads_total",
        "notifierd_queue_depth",
    } <= read


def test_panels_do_not_overlap() -> None:
    boxes = [(p["title"], p["gridPos"]) for p in dashboard()["panels"]]
    for (a, pa), (b, pb) in combinations(boxes, 2):
        apart = (
            pa["x"] + pa["w"] <= pb["x"]
            or pb["x"] + pb["w"] <= pa["x"]
            or pa["y"] + pa["h"] <= pb["y"]
            or pb["y"] + pb["h"] <= pa["y"]
        )
        assert apart, f"{a} overlaps {b}"
    assert len({p["id"] for p in dashboard()["panels"]}) == len(boxes)
