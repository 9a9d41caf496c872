"""What chat users can do with compliments and kudos; each method is one unit of work.

Transports (Slack listeners, the sandbox) call these with the chat user ids the platform gave
them; people are matched to the roster here. Team leads are recognised by the e-mail address
the platform holds for them (`managers` in breather.yml).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.compliments.messages import notice, recipient_form
from bot.compliments.service import ComplimentService, Decision, KudosResult, Removal
from bot.config import TeamConfig
from bot.i18n import Catalogue, catalogue, team_catalogue
from bot.i18n.formats import Calendar
from bot.identity import teams_led
from bot.languages import ReaderLanguages, agent_catalogue
from bot.messenger import Delivered, Form, Mention, Messenger
from bot.pseudonyms import Keyring
from bot.roster import Roster, RosterAgent
from storage.db import read_scope, session_scope
from storage.models.compliments import FROM_A_LEAD

log = logging.getLogger(__name__)

KUDOS_MAX = 1000  # characters of a kudos message that reach the channel


@dataclass(frozen=True)
class Member:
    """Someone on a Breather team: an agent, a team lead, or both."""

    user_id: str
    agent: RosterAgent | None
    teams: tuple[TeamConfig, ...]
    email: str | None = None

    @property
    def team(self) -> TeamConfig | None:
        return self.agent.team if self.agent else (self.teams[0] if self.teams else None)

    @property
    def language(self) -> str:
        return self.team.language if self.team else "en"

    @property
    def persian_calendar(self) -> Calendar:
        return self.team.persian_calendar if self.team else "solar_hijri"


@dataclass(frozen=True)
class Submitted:
    """The answer to the "who is it about?" modal: an error for the field, or a notice."""

    field_error: str | None = None
    notice: Form | None = None


class ComplimentActions:
    def __init__(
        self,
        *,
        engine: Engine,
        service: ComplimentService,
        roster: Callable[[], Roster],
        find_agent: Callable[[str], RosterAgent | None],
        messenger: Messenger,
        keyring: Keyring,
        clock: Callable[[], datetime],
        readers: ReaderLanguages | None = None,
    ) -> None:
        self.readers = readers
        self.engine = engine
        self.service = service
        self.roster = roster
        self.find_agent = find_agent
        self.messenger = messenger
        self.keyring = keyring
        self.clock = clock

    # --- who is this chat user? ------------------------------------------------------------

    def member(self, user_id: str) -> Member | None:
        agent = self.find_agent(user_id)
        email = agent.email if agent else self.messenger.email_of(user_id)
        led = tuple(teams_led(self.roster().teams, email))
        teams = ((agent.team,) if agent else ()) + tuple(t for t in led if not agent or t.id != agent.team.id)
        return Member(user_id, agent, teams, email) if teams else None

    def author_keys(self, member: Member) -> tuple[str, ...]:
        """Who sent kudos, for the daily limit: a keyed hash of the agent's stable id, or of the
        lead's e-mail (both known from breather.yml, so a key rotation can re-key it); one per
        live key, the current one first."""
        if member.agent is not None:
            return self.keyring.tokens("kudos-author", "agent", member.agent.id)
        return self.keyring.tokens("kudos-author", "person", (member.email or member.user_id).lower())

    # --- the agent's choice in their DM -----------------------------------------------------

    def decide(self, agent: RosterAgent, compliment_id: str, *, share: bool, where: Delivered) -> Decision:
        with session_scope(self.engine) as session:
            return self.service.decide(
                session, agent=agent, compliment_id=compliment_id, share=share, where=where, now=self.clock()
            )

    def remove_from_dm(self, agent: RosterAgent, compliment_id: str, where: Delivered) -> Removal:
        with session_scope(self.engine) as session:
            return self.service.remove(
                session, agent=agent, compliment_id=compliment_id, where=where, now=self.clock()
            )

    def remove_post(self, user_id: str, *, channel: str, ts: str, trigger: str) -> Removal:
        """The "Remove my compliment" message action, used on the channel post itself."""
        agent = self.find_agent(user_id)
        outcome = Removal.UNKNOWN
        with session_scope(self.engine) as session:
            compliment = self.service.find_post(session, channel=channel, ts=ts)
            if compliment is not None and agent is None:
                outcome = Removal.NOT_YOURS
            elif compliment is not None and agent is not None:
                outcome = self.service.remove(
                    session, agent=agent, compliment_id=compliment.id, where=None, now=self.clock()
                )
            cat = agent_catalogue(session, agent) if agent else catalogue("en")
        self.messenger.open_form(trigger, notice(cat, cat.t(f"compliment.remove_post.{outcome.value}")))
        return outcome

    # --- "Share as a compliment" on any message ---------------------------------------------

    def _catalogue(self, member: Member | None) -> Catalogue:
        """The person's own language: an agent's, a lead's (bot/languages.py), else their team's."""
        if member is None:
            return catalogue("en")
        if member.agent is None and (self.readers is None or member.email is None or member.team is None):
            return team_catalogue(member)
        with read_scope(self.engine) as session:
            if member.agent is not None:
                return agent_catalogue(session, member.agent)
            assert self.readers is not None and member.email is not None and member.team is not None
            return self.readers.catalogue(session, member.email, member.team)

    def share_form(self, user_id: str, *, text: str, channel: str, ts: str, trigger: str) -> None:
        member = self.member(user_id)
        cat = self._catalogue(member)
        if member is None:
            form = notice(cat, cat.t("compliment.form.not_on_team"))
        else:
            scrubbed = self.service.scrub(text, agent=None)
            if not scrubbed:
                form = notice(cat, cat.t("compliment.form.empty"))
            else:
                form = recipient_form(cat, text=scrubbed, source=f"{channel}:{ts}")
        self.messenger.open_form(trigger, form)

    def submit_recipient(self, user_id: str, *, recipient_user_id: str, context: str) -> Submitted:
        member = self.member(user_id)
        cat = self._catalogue(member)
        if member is None:
            return Submitted(notice=notice(cat, cat.t("compliment.form.not_on_team")))
        recipient = self.find_agent(recipient_user_id) if recipient_user_id else None
        if recipient is None:
            return Submitted(field_error=cat.t("compliment.form.not_on_roster"))
        try:
            carried = json.loads(context)
            text, source = str(carried["text"]), str(carried["source"])
        except (ValueError, KeyError, TypeError):
            return Submitted(notice=notice(cat, cat.t("compliment.form.empty")))
        # Scrubbed again: the modal's metadata came back from outside. Where it came from is
        # stored only as a keyed hash (ComplimentService.receive).
        text = self.service.scrub(text, agent=recipient)
        sharer = Mention(name=member.agent.name if member.agent else "", user_id=user_id)
        readers = {e.lower() for e in (*recipient.team.managers, *self.service.settings.admins)}
        from_a_lead = bool(member.email) and (member.email or "").lower() in readers
        with session_scope(self.engine) as session:
            received = self.service.receive(
                session,
                agent=recipient,
                source=FROM_A_LEAD if from_a_lead else "message",
                source_key=f"{source}:{recipient.id}",
                text=text,
                now=self.clock(),
                sharer=sharer,
            )
        if received is None:
            return Submitted(notice=notice(cat, cat.t("compliment.form.empty")))
        return Submitted(
            notice=notice(cat, cat.t("compliment.form.sent" if received.new else "compliment.form.already"))
        )

    # --- /kudos ----------------------------------------------------------------------------

    def kudos(self, author_user_id: str, recipient_user_id: str | None, text: str) -> str:
        """`/kudos @someone message`; returns the private reply to the author."""
        author = self.member(author_user_id)
        cat = self._catalogue(author)
        if recipient_user_id is None:
            return cat.t("kudos.usage")
        if author is None:
            return cat.t("kudos.not_on_team")
        if recipient_user_id == author_user_id:
            return cat.t("kudos.self")
        words = text.strip()[:KUDOS_MAX]
        if not words:
            return cat.t("kudos.empty")
        recipient = self.find_agent(recipient_user_id)
        if recipient is None:
            return cat.t("kudos.not_on_roster")
        author_name = author.agent.name if author.agent else ""
        with session_scope(self.engine) as session:
            result = self.service.send_kudos(
                session,
                author_keys=self.author_keys(author),
                author=Mention(name=author_name, user_id=author_user_id),
                recipient=recipient,
                recipient_mention=Mention(name=recipient.name, user_id=recipient_user_id),
                text=words,
                now=self.clock(),
            )
        if result is KudosResult.NO_CHANNEL:
            return cat.t("kudos.no_channel", team=recipient.team.name)
        if result is KudosResult.LIMIT:
            limit = self.service.settings.kudos_per_day
            return cat.t("kudos.limit", count=limit, limit=limit)
        return cat.t("kudos.sent")

    # --- scheduled jobs ----------------------------------------------------------------------

    def post_rollup(self, team_id: str) -> bool:
        team = self.roster().team(team_id)
        with session_scope(self.engine) as session:
            posted = self.service.post_rollup(session, team=team, now=self.clock())
        log.info(
            "weekly compliments roll-up for team %s: %s", team_id, "queued" if posted else "nothing to post"
        )
        return posted

    def expire(self) -> int:
        with session_scope(self.engine) as session:
            expired = self.service.expire(session, now=self.clock())
        if expired:
            log.info("%d compliment(s) got no answer in time and stay private", expired)
        return expired
