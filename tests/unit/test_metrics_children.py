"""The hot path counts through cached children: they must count in the exported metric."""

from prometheus_client import CollectorRegistry, Counter, Histogram

from notifierd.metrics import Children


def test_a_cached_child_counts_in_its_metric() -> None:
    registry = CollectorRegistry()
    counter = Counter("things_total", "Things.", ["channel", "status"], registry=registry)
    by = Children(counter)
    by("ops", "delivered").inc()
    by("ops", "delivered").inc()
    by("ops", "dead").inc()
    assert by("ops", "delivered") is by("ops", "delivered")
    value = registry.get_sample_value
    assert value("things_total", {"channel": "ops", "status": "delivered"}) == 2
    assert value("things_total", {"channel": "ops", "status": "dead"}) == 1
    counter.labels("ops", "delivered").inc()  # the uncached way still meets the same child
    assert value("things_total", {"channel": "ops", "status": "delivered"}) == 3


def test_a_cached_histogram_child_observes() -> None:
    registry = CollectorRegistry()
    histogram = Histogram("wait_seconds", "Waits.", ["channel"], buckets=(1, 2), registry=registry)
    Children(histogram)("ops").observe(1.5)
    assert registry.get_sample_value("wait_seconds_count", {"channel": "ops"}) == 1
    assert registry.get_sample_value("wait_seconds_bucket", {"channel": "ops", "le": "2.0"}) == 1
    assert registry.get_sample_value("wait_seconds_bucket", {"channel": "ops", "le": "1.0"}) == 0
