"""Talk to someone: the agent picks a team mate, their lead or a support resource; only then,
and only the chosen person, hears that the agent would appreciate a quick chat.

What is stored is that a request was made, of which kind, under the agent's pseudonym and
team (so a digest can count requests per team). Who was asked is never stored: it lives in
the outbox row until the message is delivered, and the outbox forgets it then (its key is kept
only as a keyed hash, and the row's recipient and words are erased).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot import outbox_keys as keys
from bot.away import AwaySignals
from bot.config import ProductSettings, SupportResource
from bot.delivery import Outbox
from bot.languages import ReaderLanguages, agent_catalogue
from bot.messenger import AgentRef, Form, Message, Text
from bot.recovery.buddies import Buddies
from bot.recovery.messages import TalkChoice, resource_details, talk_ask, talk_form, talk_sent
from bot.roster import Roster, RosterAgent
from storage.models import Checkin, TalkRequest
from storage.upsert import insert_ignore

MAX_CHOICES = 100  # a chat platform's menu holds no more (Slack's static_select: 100)


class TalkOutcome(StrEnum):
    SENT = "sent"
    NOTHING_OFFERED = "nothing_offered"  # the form only showed information; it just closes
    ALREADY = "already"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    NO_BUDDY = "no_buddy"  # no buddy may be asked right now; the form stays open


def name_from_email(email: str) -> str:
    return email.split("@", 1)[0].replace(".", " ").replace("_", " ").title()


def lead_ref(email: str, roster: Roster) -> tuple[AgentRef, str]:
    """How to reach a team lead, and their name. Leads are e-mail addresses in breather.yml;
    one who is also on the roster is reached like any agent."""
    agent = roster.find("email", email)
    if agent is not None:
        return agent.ref(), agent.name
    return roster.person_ref(email), name_from_email(email)


BUDDY_CHOICE = "buddy:any"


def talk_choices(
    agent: RosterAgent, roster: Roster, resources: list[SupportResource], *, buddies: bool = False
) -> list[TalkChoice]:
    """A buddy on shift (when the team has any, named nobody), leads, team mates by name, then
    support; never the agent themselves."""
    team = agent.team
    leads = [email for email in team.managers if email != agent.email]
    choices = [TalkChoice(BUDDY_CHOICE, "buddy", "")] if buddies else []
    choices += [
        TalkChoice(f"lead:{roster.short_key(email)}", "lead", lead_ref(email, roster)[1]) for email in leads
    ]
    mates = sorted(
        (other for other in roster.agents() if other.team.id == team.id and other.id != agent.id),
        key=lambda other: other.name.lower(),
    )
    choices += [TalkChoice(f"mate:{mate.id}", "mate", mate.name) for mate in mates if mate.email not in leads]
    choices += [TalkChoice(f"support:{roster.short_key(r.name)}", "support", r.name) for r in resources]
    return choices[:MAX_CHOICES]


class TalkService:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        outbox: Outbox,
        roster: Callable[[], Roster],
        readers: ReaderLanguages | None = None,
        away: AwaySignals | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.roster = roster
        self.readers = readers
        self.buddies = Buddies(settings=settings, outbox=outbox, roster=roster, away=away)

    def _choices(self, session: Session, agent: RosterAgent) -> list[TalkChoice]:
        buddies = self.buddies.offered(session, agent)
        return talk_choices(agent, self.roster(), self.settings.support_resources, buddies=buddies)

    def _own_talk_checkin(self, session: Session, agent: RosterAgent, checkin_id: str) -> Checkin | None:
        checkin = session.get(Checkin, checkin_id)
        if checkin is None or not agent.owns(checkin.pseudonym) or checkin.answer != "talk":
            return None
        return checkin

    def form(self, session: Session, *, agent: RosterAgent, checkin_id: str) -> Form | None:
        """The choice, for the agent whose check-in this is and who chose to talk; else None."""
        if self._own_talk_checkin(session, agent, checkin_id) is None:
            return None
        return talk_form(
            agent_catalogue(session, agent),
            checkin_id=checkin_id,
            choices=self._choices(session, agent),
            resources=self.settings.support_resources,
        )

    def submit(
        self, session: Session, *, agent: RosterAgent, checkin_id: str, choice: str, now: datetime
    ) -> TalkOutcome:
        checkin = self._own_talk_checkin(session, agent, checkin_id)
        if checkin is None:
            return TalkOutcome.UNAVAILABLE
        # The submitted value is checked against what the form may offer now: never trusted.
        offered = {c.value: c for c in self._choices(session, agent)}
        if not offered:
            return TalkOutcome.NOTHING_OFFERED
        chosen = offered.get(choice)
        if chosen is None:
            return TalkOutcome.INVALID
        buddy = self.buddies.choose(session, agent, now) if chosen.kind == "buddy" else None
        if chosen.kind == "buddy" and buddy is None:
            return TalkOutcome.NO_BUDDY
        request_id = uuid.uuid4().hex
        inserted = insert_ignore(
            session,
            TalkRequest,
            {
                "id": request_id,
                "request_key": keys.checkin(checkin.id),
                "team_id": agent.team.id,
                "pseudonym": agent.pseudonym,
                "kid": agent.kid,
                "kind": chosen.kind,
                "created_at": now,
            },
            ["request_key"],
        )
        if not inserted:
            return TalkOutcome.ALREADY
        cat = agent_catalogue(session, agent)
        if buddy is not None:
            self.buddies.ask(session, asker=agent, buddy=buddy, request_id=request_id, attempt=1, now=now)
            self.outbox.send_direct(
                session,
                key=keys.talk_sent(request_id),
                to=agent.ref(),
                message=Message(text=cat.t("buddy.sent"), parts=(Text(text=cat.t("buddy.sent")),)),
                now=now,
            )
        elif chosen.kind == "support":
            key = chosen.value.split(":", 1)[1]
            roster = self.roster()
            resource = next(r for r in self.settings.support_resources if roster.short_key(r.name) == key)
            self.outbox.send_direct(
                session,
                key=f"talk:{request_id}:resource",
                to=agent.ref(),
                message=resource_details(cat, resource),
                now=now,
            )
        else:
            person = self._person(agent, chosen)
            # The chosen person reads it in their own language: a lead who is not an agent, the
            # one kept for them as a lead (bot/languages.py).
            person_agent = self.roster().by_id(person.agent_id) if person.on_roster else None
            if person_agent is not None:
                their_cat = agent_catalogue(session, person_agent)
            elif chosen.kind == "lead" and self.readers is not None:
                their_cat = self.readers.catalogue(session, self._lead_email(agent, chosen), agent.team)
            else:
                their_cat = cat
            self.outbox.send_direct(
                session,
                key=f"talk:{request_id}:ask",
                to=person,
                message=talk_ask(their_cat, requester=agent.name),
                now=now,
            )
            self.outbox.send_direct(
                session,
                key=keys.talk_sent(request_id),
                to=agent.ref(),
                message=talk_sent(cat, name=chosen.name),
                now=now,
            )
        return TalkOutcome.SENT

    def _person(self, agent: RosterAgent, chosen: TalkChoice) -> AgentRef:
        roster = self.roster()
        key = chosen.value.split(":", 1)[1]
        if chosen.kind == "mate":
            mate = roster.by_id(key)
            assert mate is not None  # talk_choices offered it from this roster
            return mate.ref()
        return lead_ref(self._lead_email(agent, chosen), roster)[0]

    def _lead_email(self, agent: RosterAgent, chosen: TalkChoice) -> str:
        key = chosen.value.split(":", 1)[1]
        return next(e for e in agent.team.managers if self.roster().short_key(e) == key)
