"""The digest and the surge alert in words (pure functions from the released figures)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.digests.chart import ChartText
from bot.i18n import Catalogue
from bot.messenger import Heading, Message, Note, Part, Text


def _banded(cat: Catalogue, figure: Any, show: Any) -> str:
    """A figure from the anonymity gate: a number, or a band at one end of its scale."""
    if isinstance(figure, dict):
        if "at_most" in figure:
            return cat.t("digest.at_most", value=show(figure["at_most"]))
        return cat.t("digest.at_least", value=show(figure["at_least"]))
    return str(show(figure))


def _share(cat: Catalogue, figure: Any) -> str:
    return _banded(cat, figure, cat.formats.percent)


def _score(cat: Catalogue, figure: Any) -> str:
    return _banded(cat, figure, cat.formats.number)


def _date(cat: Catalogue, iso: str) -> str:
    return cat.formats.day(date.fromisoformat(iso), weekday=False, year=True)


def chart_text(cat: Catalogue, *, team: str) -> ChartText:
    return ChartText(
        who5=cat.t("digest.chart.who5"),
        who5_axis=cat.t("digest.chart.who5_axis"),
        hard=cat.t("digest.chart.hard"),
        hard_axis=cat.t("digest.chart.hard_axis"),
        weeks=cat.t("digest.chart.weeks"),
        reference=cat.t("digest.chart.reference"),
        survey_weeks=cat.t("digest.chart.survey_weeks"),
        hidden=cat.t("digest.chart.hidden"),
        empty=cat.t("digest.chart.empty"),
        day=lambda iso: cat.formats.short_day(date.fromisoformat(iso)),
    )


def wellbeing_line(cat: Catalogue, period: dict[str, Any]) -> str:
    if period.get("suppressed"):
        if period.get("reason", "").startswith("no survey"):
            return cat.t("digest.wellbeing_no_round")
        return cat.t("digest.wellbeing_suppressed", k=period["min_group"])
    people = period["respondents"]["at_least"]
    head = cat.t("digest.wellbeing_head", count=people, people=people, rate=_rate(cat, period))
    # The figures are a sentence of their own after the head's full stop: "… asked). Wellbeing …".
    figures = _metrics(cat, period).strip()
    return f"{head} {figures[:1].upper()}{figures[1:]}." if figures else head


def latest_wellbeing_line(cat: Catalogue, digest: dict[str, Any]) -> str | None:
    """Pulse rounds are fortnightly or rarer: in a week without one, recall the latest shown."""
    if not str(digest.get("reason", "")).startswith("no survey"):
        return None
    for period in reversed(digest.get("trend") or []):
        if not period.get("suppressed"):
            return cat.t("digest.wellbeing_latest", start=_date(cat, period["period"]["start"])) + _metrics(
                cat, period
            )
    return None


def _rate(cat: Catalogue, period: dict[str, Any]) -> str:
    rate = period.get("metrics", {}).get("response_rate")
    return cat.t("digest.rate", rate=_share(cat, rate)) if rate is not None else ""


def _metrics(cat: Catalogue, period: dict[str, Any]) -> str:
    metrics = period.get("metrics", {})
    bits = []
    if "who5_mean" in metrics:
        bits.append(
            cat.t(
                "digest.who5",
                mean=_score(cat, metrics["who5_mean"]),
                low=_share(cat, metrics["who5_low_share"]),
            )
        )
    if "burnout_share" in metrics:
        bits.append(cat.t("digest.burnout", share=_share(cat, metrics["burnout_share"])))
    if "cbi_client_mean" in metrics:
        bits.append(cat.t("digest.cbi", mean=_score(cat, metrics["cbi_client_mean"])))
    return (" " + " · ".join(bits)) if bits else ""


def calls_line(cat: Catalogue, calls: dict[str, Any], k: int) -> str:
    if calls.get("suppressed"):
        return cat.t("digest.calls_suppressed", k=k)
    return cat.t(
        "digest.calls",
        calls=calls["calls"],
        per_hour=calls["calls_per_agent_hour"],
        hard=cat.formats.percent(calls["hard_share"]),
        abusive=calls["abusive"],
    )


def checkins_line(cat: Catalogue, checkins: dict[str, Any], k: int) -> str:
    if checkins.get("suppressed"):
        return cat.t("digest.checkins_suppressed", k=k)
    return cat.t(
        "digest.checkins",
        sent=checkins["sent"],
        breaks=_share(cat, checkins["break_share"]),
        talks=_share(cat, checkins["talk_share"]),
    )


def trend_line(cat: Catalogue, digest: dict[str, Any]) -> str | None:
    """This week against the one before, where both were shown."""
    trend = digest.get("trend") or []
    if not trend:
        return None
    before = trend[-1]
    bits = []
    now_calls, then_calls = digest.get("calls", {}), before.get("calls", {})
    if not now_calls.get("suppressed") and not then_calls.get("suppressed"):
        bits.append(
            cat.t(
                "digest.trend_hard",
                now=cat.formats.percent(now_calls["hard_share"]),
                then=cat.formats.percent(then_calls["hard_share"]),
            )
        )
    now_m, then_m = digest.get("metrics", {}), before.get("metrics", {})
    if "who5_mean" in now_m and "who5_mean" in then_m:
        bits.append(
            cat.t(
                "digest.trend_who5",
                now=_score(cat, now_m["who5_mean"]),
                then=_score(cat, then_m["who5_mean"]),
            )
        )
    return cat.t("digest.trend", items=" · ".join(bits)) if bits else None


def digest_parts(cat: Catalogue, team_name: str, digest: dict[str, Any]) -> list[Part]:
    k = digest["min_group"]
    parts: list[Part] = [
        Heading(text=cat.t("digest.title", team=team_name, start=_date(cat, digest["period"]["start"]))),
        Text(text=wellbeing_line(cat, digest)),
        *([Text(text=latest)] if (latest := latest_wellbeing_line(cat, digest)) else []),
        Text(text=calls_line(cat, digest["calls"], k)),
        Text(text=checkins_line(cat, digest["checkins"], k)),
    ]
    praised = digest.get("compliments")
    if isinstance(praised, int):
        parts.append(Text(text=cat.t("digest.compliments", count=praised)))
    queues = [q for q in digest.get("calls_by_queue", []) if not q.get("suppressed")]
    if queues:
        parts.append(
            Text(
                text=cat.t(
                    "digest.queues",
                    items=" · ".join(
                        cat.t(
                            "digest.queue",
                            queue=q["queue"],
                            calls=q["calls"],
                            hard=cat.formats.percent(q["hard_share"]),
                        )
                        for q in queues
                    ),
                )
            )
        )
    trend = trend_line(cat, digest)
    if trend:
        parts.append(Note(text=trend))
    parts.append(Note(text=cat.t("digest.privacy", k=k)))
    parts.append(
        Note(text=cat.t("digest.bands", edge=cat.formats.percent(1 / k), top=cat.formats.percent(1 - 1 / k)))
    )
    return parts


def digest_message(cat: Catalogue, team_name: str, digest: dict[str, Any]) -> Message:
    parts = digest_parts(cat, team_name, digest)
    return Message(text=cat.t("digest.notification", team=team_name), parts=tuple(parts))


def digest_text(cat: Catalogue, team_name: str, digest: dict[str, Any]) -> str:
    """Plain text for the command line."""
    lines = []
    for part in digest_parts(cat, team_name, digest):
        text = getattr(part, "text", "")
        lines.append(text.replace("*", ""))
    return "\n".join(lines)


def surge_message(cat: Catalogue, team_name: str, surge: dict[str, Any]) -> Message:
    text = cat.t(
        "surge.text",
        team=team_name,
        share=cat.formats.percent(surge["hard_share"]),
        baseline=cat.formats.percent(surge["baseline"]),
        count=surge["window_minutes"],
        minutes=surge["window_minutes"],
    )
    return Message(
        text=cat.t("surge.notification", team=team_name),
        parts=(
            Text(text=text),
            Text(text=cat.t("surge.actions")),
            Note(text=cat.t("surge.privacy")),
        ),
    )
