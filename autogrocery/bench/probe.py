"""What the store says about itself on /metrics: CPU seconds (all its threads, and
those of its leaf nats-server when it is in a chain) and how its actors batch. Two
snapshots around the measured window give CPU per order and the mean batch size,
figures that stay meaningful on a noisy shared machine. /metrics is Prometheus text, not
the JSON API: it is read over the shared client's session as it is."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from autogrocery.client import StoreClient


@dataclass(frozen=True)
class Snapshot:
    cpu_seconds: float | None
    batches: dict[str, float] = field(default_factory=dict)
    messages: dict[str, float] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)  # version and transports


async def snapshot(client: StoreClient) -> Snapshot:
    async with client.http.get(client.url + "/metrics") as response:
        text = await response.text()
    cpu: float | None = None
    leaf = 0.0
    batches: dict[str, float] = {}
    messages: dict[str, float] = {}
    info: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "autogrocery_info":
                info = dict(sample.labels)
            elif sample.name == "process_cpu_seconds_total":
                cpu = sample.value
            elif sample.name == "autogrocery_chain_leaf_cpu_seconds_total":
                leaf = sample.value
            elif sample.name == "autogrocery_actor_batches_total":
                batches[sample.labels["actor"]] = sample.value
            elif sample.name == "autogrocery_actor_messages_total":
                messages[sample.labels["actor"]] = sample.value
    return Snapshot(None if cpu is None else cpu + leaf, batches, messages, info)


def cpu_per_order_ms(before: Snapshot, after: Snapshot, completed: int) -> float | None:
    if before.cpu_seconds is None or after.cpu_seconds is None or not completed:
        return None
    return round((after.cpu_seconds - before.cpu_seconds) * 1000.0 / completed, 3)


def mean_batches(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Messages per batch in the window, by actor."""
    means: dict[str, float] = {}
    for actor, taken in after.batches.items():
        batches = taken - before.batches.get(actor, 0.0)
        handled = after.messages.get(actor, 0.0) - before.messages.get(actor, 0.0)
        if batches > 0:
            means[actor] = round(handled / batches, 2)
    return means
