"""Thanks reach people (issue 16): once a day, a team lead hears what kind words reached their
team the day before (compliments shared to the channel, kudos posted there), with one click to
say thanks in the team's channel. Leads may switch these nudges off.

Only team-level counts of things already posted in the team's channel are shown, so the nudge
reveals nothing the channel does not. A lead's switch is stored under a keyed hash of their
e-mail (`lead_prefs.person_key`), re-made by `breather keys rotate` from breather.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.config import TeamConfig
from bot.delivery import Outbox
from bot.i18n import Catalogue, team_catalogue
from bot.ids import ActionId
from bot.languages import ReaderLanguages
from bot.lead_prefs import lead_rows, set_lead_prefs
from bot.messenger import Button, Buttons, Delivered, Message, Note, Text
from bot.outbox_keys import Topic
from bot.pseudonyms import Keyring
from bot.recovery.talk import lead_ref
from bot.roster import Roster
from storage.models import Compliment, ComplimentStatus, Kudos

NUDGE_TIME = time(9, 0)  # team time, each morning


def yesterday(team: TeamConfig, now: datetime) -> tuple[date, datetime, datetime]:
    day = now.astimezone(team.zone).date() - timedelta(days=1)
    start = datetime.combine(day, time(0), team.zone)
    return day, start, datetime.combine(day + timedelta(days=1), time(0), team.zone)


def nudge_message(cat: Catalogue, *, team: TeamConfig, day: date, shared: int, kudos: int) -> Message:
    lines = [cat.t("thanks.heading", team=team.name)]
    if shared:
        lines.append(cat.t("thanks.compliments", count=shared))
    if kudos:
        lines.append(cat.t("thanks.kudos", count=kudos))
    text = "\n".join(lines)
    buttons = Buttons(
        block_id="thanks",
        buttons=(
            Button(
                action=ActionId.THANKS_SAY.value,
                label=cat.t("thanks.say"),
                value=f"{team.id}|{day.isoformat()}",
                style="primary",
            ),
            Button(action=ActionId.THANKS_OFF.value, label=cat.t("thanks.off_button"), value=team.id),
        ),
    )
    return Message(text=text, parts=(Text(text=text), buttons, Note(text=cat.t("thanks.note"))))


class ThanksNudges:
    def __init__(
        self,
        *,
        outbox: Outbox,
        keyring: Keyring,
        roster: Callable[[], Roster],
        readers: ReaderLanguages | None = None,
    ) -> None:
        self.outbox = outbox
        self.keyring = keyring
        self.roster = roster
        self.readers = readers or ReaderLanguages(keyring, lambda email: roster().find("email", email))

    def wants_nudges(self, session: Session, email: str) -> bool:
        return not any(row.thanks_off for row in lead_rows(session, self.keyring, email))

    def set_nudges(self, session: Session, email: str, on: bool, now: datetime) -> bool:
        """Switch a lead's daily nudge on or off; False when nothing changed."""
        if self.wants_nudges(session, email) == on:
            return False
        set_lead_prefs(session, self.keyring, email, now, thanks_off=not on)
        return True

    def nudge(self, session: Session, *, team: TeamConfig, now: datetime) -> int:
        """Yesterday's kind words in the team, to each lead who wants them; how many were nudged.
        The outbox key is per lead and day, so a rerun never sends a second one."""
        if not team.managers or not team.channel:
            return 0
        day, start, end = yesterday(team, now)
        shared = session.exec(
            select(func.count()).where(
                col(Compliment.team_id) == team.id,
                col(Compliment.status) == ComplimentStatus.SHARED,
                col(Compliment.decided_at) >= start,
                col(Compliment.decided_at) < end,
            )
        ).one()
        kudos = session.exec(
            select(func.count()).where(
                col(Kudos.team_id) == team.id, col(Kudos.created_at) >= start, col(Kudos.created_at) < end
            )
        ).one()
        if not shared and not kudos:
            return 0
        sent = 0
        for email in team.managers:
            if not self.wants_nudges(session, email):
                continue
            to, _ = lead_ref(email, self.roster())
            cat = self.readers.catalogue(session, email, team)
            self.outbox.send_direct(
                session,
                key=f"thanks-nudge:{team.id}:{day.isoformat()}:{email}",
                to=to,
                message=nudge_message(cat, team=team, day=day, shared=int(shared), kudos=int(kudos)),
                now=now,
                topic=Topic.THANKS,
            )
            sent += 1
        return sent

    def say_thanks(self, session: Session, *, email: str, value: str, where: Delivered, now: datetime) -> str:
        """The lead's one click: their thanks in the team's channel, once per lead and day."""
        team_id, _, day = value.partition("|")
        roster = self.roster()
        team = next((t for t in roster.teams if t.id == team_id), None)
        cat = self.readers.catalogue(session, email, team or roster.teams[0])
        if team is None or email.lower() not in team.managers or not team.channel:
            return cat.t("error.not_allowed")
        to, name = lead_ref(email, roster)
        text = team_catalogue(team).t("thanks.posted_text", name=name)  # the channel reads it
        self.outbox.post_to_channel(
            session,
            key=f"thanks:{team.id}:{day}:{email.lower()}",
            channel=team.channel,
            message=Message(text=text, parts=(Text(text=text),)),
            now=now,
        )
        done = cat.t("thanks.done", team=team.name)
        self.outbox.update(
            session,
            key=f"thanks-nudge:{team.id}:{day}:{email.lower()}:done",
            where=where,
            message=Message(text=done, parts=(Text(text=done),)),
            now=now,
            agent_id=to.agent_id,
        )
        return done
