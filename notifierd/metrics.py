"""Prometheus metrics of the daemon, on one registry served at /metrics."""

from __future__ import annotations

import os
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, values
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)


class Children(Generic[M]):
    """A labelled metric's children, each looked up once: prometheus_client's ``labels()``
    checks, converts and locks on every call (2–5 µs), and the hot path counts every request
    and every delivery. The label values are bounded (outcomes, statuses, configured channels),
    and so is this cache, like the metric's own."""

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class _Pid:
    """This process's id, read once and again in a forked child: under ``run --workers N``
    every value a worker counts asks for it (prometheus_client writes each process's values
    to a file of its own), and ``os.getpid()`` per count was ~6 % of a worker's CPU in a burst
    (bench/README.md)."""

    def __init__(self) -> None:
        self.value = os.getpid()
        os.register_at_fork(after_in_child=self.refresh)

    def refresh(self) -> None:
        self.value = os.getpid()

    def __call__(self) -> int:
        return self.value


if values.ValueClass is not values.MutexValue:  # multiprocess mode: set before any metric
    values.ValueClass = values.MultiProcessValue(process_identifier=_Pid())

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "notifierd_requests_total",
    "Requests taken from the queue, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
REQUESTS_BY = Children(REQUESTS)  # REQUESTS_BY(outcome).inc(): the per-request count
REJECTED = Counter(
    "notifierd_rejected_total",
    "Requests that were not valid JSON or did not match the schema.",
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "notifierd_deliveries_total",
    "Delivery attempts by channel and resulting status.",
    ["channel", "status"],
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "notifierd_delivery_latency_seconds",
    "From a request's arrival to its delivery.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
DELIVERIES_BY = Children(DELIVERIES)  # DELIVERIES_BY(channel, status).inc()
DELIVERY_LATENCY_BY = Children(DELIVERY_LATENCY)  # DELIVERY_LATENCY_BY(channel).observe(s)
RETRIES = Counter(
    "notifierd_retries_total",
    "Deliveries scheduled for another attempt.",
    ["channel"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "notifierd_provider_rate_limited_total",
    "Deliveries a provider's rate limit held back (HTTP 429, Slack ratelimited, or waiting "
    "for their turn after one): waits, not attempts.",
    ["channel"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "notifierd_dead_letters_total",
    "Deliveries moved to the dead-letter queue.",
    ["channel"],
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "notifierd_fallbacks_total",
    "Fallback deliveries made because a delivery died, by the channel that died and the one "
    "falling back.",
    ["channel", "fallback"],
    registry=REGISTRY,
)
DEAD_REQUESTS = Counter(
    "notifierd_dead_requests_total",
    "Requests whose processing failed for a reason other than Redis or Postgres being away "
    "(a bug, or records Postgres refuses): in the dead-letter queue, replayable.",
    registry=REGISTRY,
)
INFRA_RETRIES = Counter(
    "notifierd_infrastructure_retries_total",
    "Requests processed again because Redis or Postgres failed while they were processed.",
    registry=REGISTRY,
)
RATE_LIMIT_WAITS = Counter(
    "notifierd_rate_limit_wait_seconds_total",
    "Seconds deliveries waited for rate-limit quota.",
    ["limit"],
    registry=REGISTRY,
)
# multiprocess_mode: how worker processes' values add up under `run --workers N` (notifierd
# .supervisor); ignored by a single process.
QUEUE_DEPTH = Gauge(
    "notifierd_queue_depth",
    "Requests waiting in the Redis list.",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",  # every worker sees the same list
)
IN_FLIGHT = Gauge(
    "notifierd_in_flight_requests",
    "Requests taken but not yet recorded.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
CONFIG_RELOADS = Counter(
    "notifierd_config_reloads_total",
    "Config reload attempts by result.",
    ["result"],
    registry=REGISTRY,
)
CONFIG_LAST_SUCCESS = Gauge(
    "notifierd_config_last_reload_success_timestamp_seconds",
    "When the active config was loaded.",
    registry=REGISTRY,
    # The newest load; not min: a worker still starting reads 0 until it has loaded the config.
    multiprocess_mode="livemax",
)
CONFIG_LAST_RELOAD_OK = Gauge(
    "notifierd_config_last_reload_successful",
    "1 when the last reload attempt succeeded, 0 when it was refused.",
    registry=REGISTRY,
    multiprocess_mode="livemin",  # 0 when any worker refused its last reload
)
# Nothing refused yet. Without this a worker still starting (its gauges begin at 0) would read
# as a refused reload for the whole of ``run --workers N`` until it has loaded the config.
CONFIG_LAST_RELOAD_OK.set(1)
CONFIG_INFO = Info("notifierd_config", "The active config snapshot.", registry=REGISTRY)
OPEN_ALERTS = Gauge(
    "notifierd_open_alerts",
    "Alerts triggered or acknowledged, not resolved.",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",  # counted in Postgres: the same for every worker
)
ESCALATIONS = Counter(
    "notifierd_escalations_fired_total", "Escalation steps fired.", registry=REGISTRY
)
ESCALATION_STEP_FAILURES = Counter(
    "notifierd_escalation_step_failures_total",
    "Escalation steps whose notification failed to be processed; each is retried on its own.",
    registry=REGISTRY,
)
ONCALL_UNRESOLVED = Counter(
    "notifierd_oncall_unresolved_total",
    "Schedule deliveries that paged no one: nobody on call (or the person on call reachable on "
    "none of the delivery's channel) and no fallback that fits it. Each is a dead delivery.",
    ["schedule"],
    registry=REGISTRY,
)
RUNTIME_SILENCES = Gauge(
    "notifierd_runtime_silences",
    "Run-time silences not ended (added without a pull request; some may start later).",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",  # read from Postgres: the same for every worker
)
RUNTIME_OVERRIDES = Gauge(
    "notifierd_runtime_overrides",
    "Run-time schedule overrides not ended (added without a pull request).",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
ESCALATION_OVERDUE = Gauge(
    "notifierd_escalation_overdue_seconds",
    "How long the oldest escalation step that should have fired has waited (0: none): grows "
    "while escalations fall behind, even when none fires.",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",  # read from Postgres: the same for every worker
)
ESCALATION_LATENESS = Histogram(
    "notifierd_escalation_lateness_seconds",
    "How late escalation steps fired.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300),
    registry=REGISTRY,
)

CONSOLE_CLIENTS = Gauge(
    "notifierd_console_clients",
    "Browsers following the console's live updates (GET /ui/events).",
    registry=REGISTRY,
    multiprocess_mode="livesum",  # each worker serves its own connections
)


def exposition_registry() -> CollectorRegistry:
    """What ``/metrics`` shows: this process's metrics, or, when this is one of several workers
    (``run --workers N``), every worker's counters, histograms and gauges added up; the config
    Info, which multiprocess mode cannot share, is this worker's (they load the same files)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(CONFIG_INFO)
    return registry
