"""deploy/grafana-dashboard.json asks only for metrics a live server exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.live import LiveServer

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana-dashboard.json"
METRIC = re.compile(r"\bcounsel_[a-z0-9_]+")
TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def exported_names(metrics_text: str) -> set[str]:
    """Every series name the text exposes, samples or not (a labelled counter has none until
    counted)."""
    names = set()
    for name, kind in TYPE_LINE.findall(metrics_text):
        names.add(name)
        names.update(name + suffix for suffix in SUFFIXES.get(kind, ()))
    return names


def expressions(node: Any) -> list[str]:
    """Every PromQL expression of the dashboard: targets' `expr`, variables' `query`."""
    if isinstance(node, list):
        return [e for item in node for e in expressions(item)]
    if not isinstance(node, dict):
        return []
    found = [v for k, v in node.items() if k in ("expr", "query") and isinstance(v, str)]
    return found + [e for v in node.values() for e in expressions(v)]


def test_every_dashboard_query_names_metrics_the_server_exports(live: LiveServer) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exported = exported_names(httpx.get(f"{live.url}/metrics").text)
    exprs = expressions(dashboard)
    assert len(exprs) >= 10
    asked = {name for expr in exprs for name in METRIC.findall(expr)}
    assert all(METRIC.search(expr) for expr in exprs)
    assert asked - exported == set()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
