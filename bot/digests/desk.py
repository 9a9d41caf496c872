"""Where digests go out: the operator's CLI, `/breather digest`, the leads' Home tab, the Monday DM
and surge alerts. Access is checked and logged for every read by a person."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import BreatherConfig, TeamConfig
from bot.delivery import Outbox
from bot.digests.chart import trend_png
from bot.digests.messages import chart_text, digest_message, digest_parts, surge_message
from bot.digests.model import Digest
from bot.digests.periods import end_of_week
from bot.digests.service import DigestService, DigestVia
from bot.errors import InvalidInput
from bot.i18n import Catalogue, catalogue, team_catalogue
from bot.languages import ReaderLanguages
from bot.messenger import ChatPlatform, ChatUser, FileUpload, Message, Part, Text
from bot.outbox_keys import Topic
from bot.pseudonyms import Keyring
from bot.roster import person_ref
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)


class DigestDesk:
    def __init__(
        self,
        *,
        engine: Engine,
        config: BreatherConfig,
        digests: DigestService,
        outbox: Outbox,
        keyring: Keyring,
        clock: Callable[[], datetime],
        readers: ReaderLanguages,
    ) -> None:
        self.readers = readers
        self.engine = engine
        self.config = config
        self.digests = digests
        self.outbox = outbox
        self.keyring = keyring
        self.clock = clock

    def reader_catalogue(self, session: Session, team: TeamConfig, email: str | None) -> Catalogue:
        """Each lead reads digests in their own language (bot/languages.py), else the team's."""
        return self.readers.catalogue(session, email, team) if email else team_catalogue(team)

    def chart(self, team: TeamConfig, digest: Digest, cat: Catalogue | None = None) -> FileUpload:
        cat = cat or team_catalogue(team)
        return FileUpload(
            filename=f"breather-{team.id}-{digest.latest.start.isoformat()}.png",
            title=cat.t("digest.chart_title", team=team.name),
            alt=cat.t("digest.chart_alt", team=team.name),
            content=trend_png(digest, chart_text(cat, team=team.name)),
        )

    def for_operator(self, team_id: str, week_of: date | None = None) -> tuple[TeamConfig, Digest]:
        """The CLI's view: operators run the server, so they may read any team's digest, of the
        latest complete week or of the week containing `week_of`."""
        team = self.config.team(team_id)
        now = self.clock()
        until = None
        if week_of is not None:
            until = end_of_week(week_of, team.zone)
            if until > now:
                raise InvalidInput(
                    f"the week of {week_of.isoformat()} is not over yet in {team.zone.key}; "
                    "digests show complete weeks only"
                )
        with session_scope(self.engine) as session:
            digest = self.digests.digest(session, team, now, until=until)
            self.digests.log_access(
                session, reader="operator (cli)", team_id=team.id, via=DigestVia.CLI, now=now
            )
        return team, digest

    def for_lead(self, email: str | None, args: list[str], caller: ChatUser | None) -> Message:
        """`/breather digest [team]`: the digest as the reply, and the chart in the lead's DM."""
        teams = self.digests.readable_teams(self.config, email)
        cat = catalogue("en")
        if teams and email:
            with read_scope(self.engine) as session:
                cat = self.reader_catalogue(session, teams[0], email)
        if args:
            wanted = [team for team in teams if team.id.casefold() == args[0].casefold()]
            if not wanted:
                return Message(text=cat.t("digest.refused"), parts=(Text(text=cat.t("digest.refused")),))
            teams = wanted
        if not teams:
            return Message(text=cat.t("digest.no_team"), parts=(Text(text=cat.t("digest.no_team")),))
        if len(teams) > 1:
            text = cat.t("digest.which_team", teams="|".join(team.id for team in teams))
            return Message(text=text, parts=(Text(text=text),))
        assert email is not None
        team = teams[0]
        now = self.clock()
        with session_scope(self.engine) as session:
            digest = self.digests.digest(session, team, now)
            self.digests.log_access(session, reader=email, team_id=team.id, via=_command_via(caller), now=now)
            reader = self.reader_catalogue(session, team, email)
            self.outbox.upload_file(
                session,
                key=f"digest-chart:{team.id}:{email}:{now.timestamp()}",
                to=person_ref(self.keyring, email, caller),
                file=self.chart(team, digest, reader),
                now=now,
            )
        return digest_message(reader, team.name, digest)

    def home_parts(self, email: str | None, session: Session | None = None) -> list[Part]:
        """The Manager section of a lead's Home tab: each of their teams' latest digest (in the
        caller's `session` when it holds one: on SQLite a second writer would wait for it)."""
        teams = self.digests.readable_teams(self.config, email)
        if not teams or email is None:
            return []
        if session is None:
            with session_scope(self.engine) as own:
                return self._home_parts(own, teams, email)
        return self._home_parts(session, teams, email)

    def _home_parts(self, session: Session, teams: list[TeamConfig], email: str) -> list[Part]:
        now = self.clock()
        parts: list[Part] = []
        for team in teams:
            digest = self.digests.digest(session, team, now)
            self.digests.log_access(session, reader=email, team_id=team.id, via=DigestVia.APP_HOME, now=now)
            parts.extend(digest_parts(self.reader_catalogue(session, team, email), team.name, digest))
        return parts

    def weekly(self, team_id: str) -> int:
        """The Monday-morning DM to each of the team's leads (idempotent per week)."""
        team = self.config.team(team_id)
        now = self.clock()
        with session_scope(self.engine) as session:
            digest = self.digests.digest(session, team, now)
            week = digest.latest.start.isoformat()
            charts: dict[str, FileUpload] = {}  # one drawing per language the leads read
            for email in team.managers:
                # Outbox keys are stored only as keyed hashes, so the e-mail may be part of one.
                key = f"digest:{team.id}:{week}:{email.lower()}"
                lead = person_ref(self.keyring, email)
                reader = self.reader_catalogue(session, team, email)
                message = digest_message(reader, team.name, digest)
                chart = charts.get(reader.language) or charts.setdefault(
                    reader.language, self.chart(team, digest, reader)
                )
                self.outbox.send_direct(
                    session, key=key, to=lead, message=message, now=now, topic=Topic.DIGEST
                )
                self.outbox.upload_file(session, key=f"{key}:chart", to=lead, file=chart, now=now)
                self.digests.log_access(
                    session, reader=email, team_id=team.id, via=DigestVia.WEEKLY_DM, now=now
                )
        return len(team.managers)

    def surges(self) -> int:
        """Check every team for a surge of hard calls; DM its leads a team-level alert."""
        sent = 0
        now = self.clock()
        for team in self.config.teams:
            with session_scope(self.engine) as session:
                surge = self.digests.surge(session, team, now)
                if surge is None or not team.managers:
                    continue
                for email in team.managers:
                    message = surge_message(self.reader_catalogue(session, team, email), team.name, surge)
                    self.outbox.send_direct(
                        session,
                        key=f"surge:{team.id}:{now.timestamp()}:{email.lower()}",
                        to=person_ref(self.keyring, email),
                        message=message,
                        now=now,
                        topic=Topic.SURGE,
                    )
                sent += 1
                log.info("surge alert for team %s", team.id)
        return sent


def _command_via(caller: ChatUser | None) -> DigestVia:
    if caller is None:
        return DigestVia.COMMAND
    return {ChatPlatform.SLACK: DigestVia.SLACK_COMMAND, ChatPlatform.TEAMS: DigestVia.TEAMS_COMMAND}[
        caller.platform
    ]
