"""Prometheus metrics, on a registry owned by one app instance (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_received = Counter(
            "breather_events_received_total",
            "Provider webhook events accepted",
            ["provider"],
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "breather_events_rejected_total",
            "Provider webhook requests refused",
            ["provider", "reason"],
            registry=self.registry,
        )
        self.events_duplicate = Counter(
            "breather_events_duplicate_total",
            "Repeated deliveries acknowledged without effect",
            ["provider"],
            registry=self.registry,
        )
        self.events_ignored = Counter(
            "breather_events_ignored_total",
            "Events for agents not on the roster",
            ["provider"],
            registry=self.registry,
        )
        self.hard_calls = Counter(
            "breather_hard_calls_total",
            "Calls assessed as hard",
            registry=self.registry,
        )
        self.checkins_sent = Counter(
            "breather_checkins_sent_total",
            "Check-in messages delivered to agents",
            registry=self.registry,
        )
        self.checkins_held_back = Counter(
            "breather_checkins_held_back_total",
            "Hard calls where the nudge policy said not now",
            ["reason"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "breather_outbox_depth",
            "Outbound messages waiting to be delivered",
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "breather_delivery_latency_seconds",
            "From enqueue to delivery by the chat platform",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "breather_delivery_failures_total",
            "Failed delivery attempts",
            ["reason"],
            registry=self.registry,
        )
