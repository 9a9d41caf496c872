"""The digest and the surge alert in words (pure functions from the released figures)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.digests.chart import ChartText
from bot.digests.model import (
    Band,
    Calls,
    Checkins,
    Digest,
    Figure,
    Period,
    QueueCalls,
    Reason,
    Suppressed,
    Surge,
    Wellbeing,
)
from bot.i18n import Catalogue
from bot.messenger import Heading, Message, Note, Part, Text


def _banded(cat: Catalogue, figure: Figure, show: Callable[[float], str]) -> str:
    """A figure from the anonymity gate: a number, or a band at one end of its scale."""
    if figure.band is Band.AT_MOST:
        return cat.t("digest.at_most", value=show(figure.value))
    if figure.band is Band.AT_LEAST:
        return cat.t("digest.at_least", value=show(figure.value))
    return str(show(figure.value))


def _share(cat: Catalogue, figure: Figure) -> str:
    return _banded(cat, figure, cat.formats.percent)


def _score(cat: Catalogue, figure: Figure) -> str:
    return _banded(cat, figure, cat.formats.number)


def _date(cat: Catalogue, day: date) -> str:
    return cat.formats.day(day, weekday=False, year=True)


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
        day=cat.formats.short_day,
    )


def wellbeing_line(cat: Catalogue, period: Period) -> str:
    wellbeing = period.wellbeing
    if isinstance(wellbeing, Suppressed):
        if wellbeing.reason is Reason.NO_SURVEY:
            return cat.t("digest.wellbeing_no_round")
        return cat.t("digest.wellbeing_suppressed", k=period.min_group)
    people = wellbeing.respondents.at_least
    head = cat.t("digest.wellbeing_head", count=people, people=people, rate=_rate(cat, wellbeing))
    # The figures are a sentence of their own after the head's full stop: "… asked). Wellbeing …".
    figures = _metrics(cat, wellbeing).strip()
    return f"{head} {figures[:1].upper()}{figures[1:]}." if figures else head


def latest_wellbeing_line(cat: Catalogue, digest: Digest) -> str | None:
    """Pulse rounds are fortnightly or rarer: in a week without one, recall the latest shown."""
    latest = digest.latest.wellbeing
    if not (isinstance(latest, Suppressed) and latest.reason is Reason.NO_SURVEY):
        return None
    for period in reversed(digest.trend):
        if isinstance(period.wellbeing, Wellbeing):
            return cat.t("digest.wellbeing_latest", start=_date(cat, period.start)) + _metrics(
                cat, period.wellbeing
            )
    return None


def _rate(cat: Catalogue, wellbeing: Wellbeing) -> str:
    rate = wellbeing.response_rate
    return cat.t("digest.rate", rate=_share(cat, rate)) if rate is not None else ""


def _metrics(cat: Catalogue, wellbeing: Wellbeing) -> str:
    bits = []
    if wellbeing.who5_mean is not None and wellbeing.who5_low_share is not None:
        bits.append(
            cat.t(
                "digest.who5",
                mean=_score(cat, wellbeing.who5_mean),
                low=_share(cat, wellbeing.who5_low_share),
            )
        )
    if wellbeing.burnout_share is not None:
        bits.append(cat.t("digest.burnout", share=_share(cat, wellbeing.burnout_share)))
    if wellbeing.cbi_client_mean is not None:
        bits.append(cat.t("digest.cbi", mean=_score(cat, wellbeing.cbi_client_mean)))
    return (" " + " · ".join(bits)) if bits else ""


def calls_line(cat: Catalogue, calls: Calls | Suppressed, k: int) -> str:
    if isinstance(calls, Suppressed):
        return cat.t("digest.calls_suppressed", k=k)
    return cat.t(
        "digest.calls",
        calls=calls.calls,
        per_hour=calls.calls_per_agent_hour,
        hard=cat.formats.percent(calls.hard_share),
        abusive=calls.abusive,
    )


def checkins_line(cat: Catalogue, checkins: Checkins | Suppressed, k: int) -> str:
    if isinstance(checkins, Suppressed):
        return cat.t("digest.checkins_suppressed", k=k)
    return cat.t(
        "digest.checkins",
        sent=checkins.sent,
        breaks=_share(cat, checkins.break_share),
        talks=_share(cat, checkins.talk_share),
    )


def trend_line(cat: Catalogue, digest: Digest) -> str | None:
    """This week against the one before, where both were shown."""
    if not digest.trend:
        return None
    now, before = digest.latest, digest.trend[-1]
    bits = []
    if isinstance(now.calls, Calls) and isinstance(before.calls, Calls):
        bits.append(
            cat.t(
                "digest.trend_hard",
                now=cat.formats.percent(now.calls.hard_share),
                then=cat.formats.percent(before.calls.hard_share),
            )
        )
    now_who5, then_who5 = _who5_mean(now), _who5_mean(before)
    if now_who5 is not None and then_who5 is not None:
        bits.append(cat.t("digest.trend_who5", now=_score(cat, now_who5), then=_score(cat, then_who5)))
    return cat.t("digest.trend", items=" · ".join(bits)) if bits else None


def _who5_mean(period: Period) -> Figure | None:
    return period.wellbeing.who5_mean if isinstance(period.wellbeing, Wellbeing) else None


def digest_parts(cat: Catalogue, team_name: str, digest: Digest) -> list[Part]:
    latest = digest.latest
    k = latest.min_group
    parts: list[Part] = [
        Heading(text=cat.t("digest.title", team=team_name, start=_date(cat, latest.start))),
        Text(text=wellbeing_line(cat, latest)),
        *([Text(text=recalled)] if (recalled := latest_wellbeing_line(cat, digest)) else []),
        Text(text=calls_line(cat, latest.calls, k)),
        Text(text=checkins_line(cat, latest.checkins, k)),
    ]
    if not isinstance(latest.compliments, Suppressed):
        parts.append(Text(text=cat.t("digest.compliments", count=latest.compliments)))
    queues = [(q.name, q.figures) for q in latest.queues if isinstance(q.figures, QueueCalls)]
    if queues:
        parts.append(
            Text(
                text=cat.t(
                    "digest.queues",
                    items=" · ".join(
                        cat.t(
                            "digest.queue",
                            queue=name,
                            calls=figures.calls,
                            hard=cat.formats.percent(figures.hard_share),
                        )
                        for name, figures in queues
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


def digest_message(cat: Catalogue, team_name: str, digest: Digest) -> Message:
    parts = digest_parts(cat, team_name, digest)
    return Message(text=cat.t("digest.notification", team=team_name), parts=tuple(parts))


def digest_text(cat: Catalogue, team_name: str, digest: Digest) -> str:
    """Plain text for the command line."""
    lines = []
    for part in digest_parts(cat, team_name, digest):
        text = getattr(part, "text", "")
        lines.append(text.replace("*", ""))
    return "\n".join(lines)


def surge_message(cat: Catalogue, team_name: str, surge: Surge) -> Message:
    text = cat.t(
        "surge.text",
        team=team_name,
        share=cat.formats.percent(surge.hard_share),
        baseline=cat.formats.percent(surge.baseline),
        count=surge.window_minutes,
        minutes=surge.window_minutes,
    )
    return Message(
        text=cat.t("surge.notification", team=team_name),
        parts=(
            Text(text=text),
            Text(text=cat.t("surge.actions")),
            Note(text=cat.t("surge.privacy")),
        ),
    )
