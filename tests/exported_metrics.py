"""The metric names the daemon exports, and the ones a PromQL expression names: what checks that
deploy/'s alerting rules and dashboard watch metrics that exist."""

from __future__ import annotations

import re

from notifierd import metrics

# The series each kind of metric family puts on /metrics (prometheus_client's naming).
SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}
# A name of ours, not part of a longer identifier nor of a recording rule's
# ``level:metric:operation`` name (``notifierd:delivery_failures:rate10m``).
METRIC_NAME = re.compile(r"(?<![\w:])notifierd_[A-Za-z0-9_]+(?![\w:])")


def exported_series() -> frozenset[str]:
    """Every series name the daemon's registry can put on /metrics, labelled families
    included (they have no samples until a label value is first used)."""
    return frozenset(
        family.name + suffix
        for family in metrics.REGISTRY.collect()
        for suffix in SERIES_SUFFIXES[family.type]
    )


def promql_metric_names(expr: str) -> set[str]:
    """The notifierd metric names a PromQL expression reads (loosely: no full parser)."""
    return set(METRIC_NAME.findall(expr))


def unknown_metrics(exprs: dict[str, str]) -> dict[str, set[str]]:
    """For each named expression, the metric names in it the daemon does not export."""
    exported = exported_series()
    found = {where: promql_metric_names(expr) - exported for where, expr in exprs.items()}
    return {where: names for where, names in found.items() if names}
