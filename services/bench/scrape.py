"""Reading a figure off a service's Prometheus endpoint."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def metric_total(metrics_text: str, family: str, **labels: str) -> float:
    """The sum of a counter's or gauge's samples whose labels include ``labels`` (0 if absent)."""
    for found in text_string_to_metric_families(metrics_text):
        if found.name == family:
            return sum(
                sample.value
                for sample in found.samples
                if sample.name in (family, f"{family}_total")
                and all(sample.labels.get(k) == v for k, v in labels.items())
            )
    return 0.0
