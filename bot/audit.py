"""`breather audit`: who read which team's figures and when, and what changed in the
configuration, from records Breather keeps anyway (nothing is logged for the audit alone).

For a works council or a DPO: every read of a team digest (`digest_access_log`, kept a year),
every figure released to a team's leads (`digest_releases`: the figure's family and week, never
its values or contributors), every surge alert sent (`surge_alerts`), and the roster and team
settings as Breather loaded them from breather.yml (`agents`, `teams`). Agents are never named:
the export says that an agent joined or left a team, not who, and nothing about what any agent
answered or did is in Breather's reach here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Agent, DigestAccess, DigestRelease, SurgeAlert, Team

FIELDS = ("at", "event", "team", "who", "detail")


@dataclass(frozen=True)
class AuditEvent:
    at: datetime
    event: str  # digest_read, figures_released, surge_alert, agent_joined, agent_left, team_settings
    team: str
    who: str  # the reader for a read; "breather" or "breather.yml" for what Breather did or loaded
    detail: str


def events(session: Session, *, since: datetime | None = None) -> list[AuditEvent]:
    """Every audit event at or after `since`, oldest first."""
    found: list[AuditEvent] = []
    for read in session.exec(select(DigestAccess)):
        found.append(AuditEvent(read.at, "digest_read", read.team_id, read.reader, f"via {read.via}"))
    for release in session.exec(select(DigestRelease)):
        family = release.metric.split("/", 1)[0]  # "wellbeing/2" is the wellbeing figures
        scope = "" if release.scope == "team" else f" ({release.scope})"
        found.append(
            AuditEvent(
                release.released_at,
                "figures_released",
                release.team_id,
                "breather",
                f"{family}{scope} for the week of {release.period_start.isoformat()}",
            )
        )
    for alert in session.exec(select(SurgeAlert)):
        found.append(
            AuditEvent(alert.sent_at, "surge_alert", alert.team_id, "breather", "sent to the team's leads")
        )
    for agent in session.exec(select(Agent).order_by(col(Agent.created_at))):
        found.append(
            AuditEvent(agent.created_at, "agent_joined", agent.team_id, "breather.yml", "an agent was added")
        )
        if not agent.active:
            found.append(
                AuditEvent(
                    agent.updated_at, "agent_left", agent.team_id, "breather.yml", "an agent was removed"
                )
            )
    for team in session.exec(select(Team)):
        state = "applied" if team.active else "removed"
        found.append(
            AuditEvent(
                team.updated_at,
                "team_settings",
                team.id,
                "breather.yml",
                f"team settings {state} (name, time zone, language, channel), as last loaded",
            )
        )
    chosen = [event for event in found if since is None or event.at >= since]
    return sorted(chosen, key=lambda e: (e.at, e.event, e.team, e.detail))


def as_csv(rows: Sequence[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([row.at.isoformat(), row.event, row.team, row.who, row.detail])
    return out.getvalue()


def as_json(rows: Sequence[AuditEvent]) -> str:
    return json.dumps([{**asdict(row), "at": row.at.isoformat()} for row in rows], indent=2)
