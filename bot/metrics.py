"""Prometheus metrics, on a registry owned by one app instance (tests build many apps).

No metric moves because one person did something personal (paused, opted out, answered a
check-in, asked to talk, took a break, had a check-in held back): read beside the phone
system's call log, such a counter would tell on them. So there is no count of check-ins sent or
held back (by reason or at all), no per-message delivery latency (its count would move by one
after "I'm OK" and by three after "Talk to someone"), and the outbox is measured only in
messages overdue by a minute, at scrape time. What is left describes the service's health:
events in and refused, hard calls judged (a fact about the call, which the phone system holds
anyway), the overdue backlog and delivery failures.
"""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge

OVERDUE_AFTER = timedelta(minutes=1)


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
        # Read at each scrape, and only for messages overdue by OVERDUE_AFTER: a message a person's
        # click caused is delivered long before that, so neither gauge moves because of it.
        self.outbox_depth = Gauge(
            "breather_outbox_depth",
            "Outbound messages due at least a minute ago and not yet delivered",
            registry=self.registry,
        )
        self.delivery_delay = Gauge(
            "breather_delivery_delay_seconds",
            "How long the most overdue outbound message has waited past its due time",
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "breather_delivery_failures_total",
            "Failed delivery attempts",
            ["reason"],
            registry=self.registry,
        )
