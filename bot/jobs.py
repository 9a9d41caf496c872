"""The scheduled-job table: what runs when, under stable ids built from breather.yml.

APScheduler runs it (bot/scheduler.py, one leading process); each job is one use case of a
feature, so this module only says when, never what.
"""

from __future__ import annotations

from datetime import UTC
from functools import partial
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.compliments.service import ROLLUP_TIME, ROLLUP_WEEKDAY
from bot.compliments.thanks import NUDGE_TIME
from bot.ids import JobId
from bot.scheduler import JobSpec

if TYPE_CHECKING:
    from bot.container import Services


def job_table(services: Services) -> list[JobSpec]:
    """Every scheduled job, with stable ids built from the configuration."""
    jobs = [
        JobSpec(JobId.PURGE.value, CronTrigger(hour=3, minute=15, timezone=UTC), services.retention.purge)
    ]
    surveyed = [team for team in services.config.teams if team.pulse is not None]
    for team in surveyed:
        assert team.pulse is not None
        trigger = CronTrigger(
            day_of_week=team.pulse.day,
            hour=team.pulse.at.hour,
            minute=team.pulse.at.minute,
            timezone=team.zone,
        )
        jobs.append(
            JobSpec(
                f"{JobId.PULSE_ROUND}:{team.id}",
                trigger,
                partial(services.survey_actions.scheduled_round, team.id),
            )
        )
    for team in services.config.teams:
        if team.managers:
            monday = CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=team.zone)
            jobs.append(
                JobSpec(
                    f"{JobId.DIGEST}:{team.id}",
                    monday,
                    partial(services.digest_desk.weekly, team.id),
                )
            )
    jobs.append(JobSpec(JobId.SURGE.value, IntervalTrigger(minutes=5), services.digest_desk.surges))
    if surveyed:
        jobs.append(
            JobSpec(JobId.PULSE_DISPATCH.value, IntervalTrigger(minutes=1), services.survey_actions.dispatch)
        )
    jobs.append(JobSpec(JobId.PAUSE_ENDS.value, IntervalTrigger(minutes=1), services.home.end_pauses))
    for team in services.config.teams:
        if team.managers and team.channel:
            mornings = CronTrigger(hour=NUDGE_TIME.hour, minute=NUDGE_TIME.minute, timezone=team.zone)
            jobs.append(
                JobSpec(
                    f"{JobId.THANKS_NUDGE}:{team.id}",
                    mornings,
                    partial(services.thanks_actions.nudge, team.id),
                )
            )
        if team.pairing is not None:
            weekly = CronTrigger(
                day_of_week=team.pairing.day,
                hour=team.pairing.at.hour,
                minute=team.pairing.at.minute,
                timezone=team.zone,
            )
            jobs.append(
                JobSpec(f"{JobId.PAIRING}:{team.id}", weekly, partial(services.home.pair_team, team.id))
            )
    jobs.append(
        JobSpec(
            JobId.COMPLIMENT_EXPIRY.value,
            CronTrigger(minute="*/10", timezone=UTC),
            services.compliments.expire,
        )
    )
    for team in services.config.teams:
        if team.channel:
            jobs.append(
                JobSpec(
                    f"{JobId.COMPLIMENT_ROLLUP}:{team.id}",
                    CronTrigger(
                        day_of_week=ROLLUP_WEEKDAY,
                        hour=ROLLUP_TIME.hour,
                        minute=ROLLUP_TIME.minute,
                        timezone=team.zone,
                    ),
                    partial(services.compliments.post_rollup, team.id),
                )
            )
    return jobs
