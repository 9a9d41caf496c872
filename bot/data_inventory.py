"""The data inventory: every table and column Breather stores, what it holds, its class and how
long it is kept. One place in code; `docs/privacy/data-inventory.md` is generated from it
(`make inventory`, or `python -m bot.data_inventory > docs/privacy/data-inventory.md`), and a
test fails when the migrated schema has a column this file does not classify.

Classes:
- directory: names people on purpose (who is who, where to reach them, who read a digest).
  Only the directory tables and the digest access log hold such values;
- pseudonymous: about one person, but only under a keyed pseudonym or as a keyed hash: without
  the pseudonym key (never stored in the database) it cannot be linked to anyone;
- operational: about no person (times, states, team-level counts, settings).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum

from bot.retention import ACCESS_LOG_KEEP, DEDUPE_WINDOW, LATE_EVENTS_KEEP, OUTBOX_KEEP


class Kind(StrEnum):
    DIRECTORY = "directory"
    PSEUDONYMOUS = "pseudonymous"
    OPERATIONAL = "operational"


@dataclass(frozen=True)
class Column:
    kind: Kind
    holds: str
    kept: str = ""  # when it differs from the table's retention
    # Holds its value only while the work it is needed for runs (a message not yet delivered,
    # a break still running), then is emptied: at rest it holds nothing.
    transient: bool = False


@dataclass(frozen=True)
class Table:
    purpose: str
    kept: str
    columns: dict[str, Column]


def _days(delta: object) -> str:
    from datetime import timedelta

    assert isinstance(delta, timedelta)
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours"


D, P, OP = Kind.DIRECTORY, Kind.PSEUDONYMOUS, Kind.OPERATIONAL
RETENTION = "`retention_days` (default 90), by `breather purge`"
PSEUDONYM = Column(P, "the agent's keyed pseudonym (HMAC of their stable id)")
KID = Column(OP, "which pseudonym key made the pseudonym (a key id, not the key)")
TEAM = Column(OP, "the team id from breather.yml")
ID = Column(OP, "row id (random or sequential; about nothing)")
WHEN = Column(OP, "a time")
OUTSIDE = "cleared (set to `-<row id>`)"

INVENTORY: dict[str, Table] = {
    "teams": Table(
        "teams from breather.yml",
        "as long as the team is in breather.yml (then marked inactive)",
        {
            "id": Column(OP, "team id"),
            "name": Column(OP, "team name"),
            "timezone": Column(OP, "IANA time zone"),
            "language": Column(OP, "message catalogue"),
            "channel": Column(OP, "the team's chat channel id"),
            "active": Column(OP, "still in breather.yml"),
            "updated_at": WHEN,
        },
    ),
    "agents": Table(
        "the directory: agents from breather.yml",
        "also after an agent leaves breather.yml (deactivated), so a returning agent keeps their "
        "pseudonym and a key rotation can re-key their rows",
        {
            "id": Column(D, "the agent's stable internal id (what pseudonyms are made from)"),
            "email": Column(D, "e-mail address"),
            "team_id": TEAM,
            "name": Column(D, "display name"),
            "provider_ids": Column(D, "phone-system and chat ids from breather.yml"),
            "active": Column(OP, "still in breather.yml"),
            "created_at": WHEN,
            "updated_at": WHEN,
        },
    ),
    "chat_addresses": Table(
        "the directory: where to reach an agent in Slack (looked up by e-mail)",
        "until the agent's address changes; no address is kept for people off the roster",
        {
            "id": ID,
            "agent_id": Column(D, "the agent's stable id"),
            "platform": Column(OP, "slack"),
            "user_id": Column(D, "chat user id"),
            "dm_channel": Column(D, "their direct-message channel id"),
            "updated_at": WHEN,
        },
    ),
    "teams_conversations": Table(
        "the directory: where to reach a person in Microsoft Teams",
        "until they uninstall Breather",
        {
            "id": ID,
            "aad_object_id": Column(D, "Entra object id"),
            "teams_user_id": Column(D, "Teams user id"),
            "email": Column(D, "e-mail address or UPN"),
            "upn": Column(D, "user principal name"),
            "name": Column(D, "display name"),
            "conversation_id": Column(D, "their 1:1 chat with Breather"),
            "service_url": Column(OP, "the Bot Connector region"),
            "tenant_id": Column(OP, "the organisation's tenant"),
            "home_activity_id": Column(D, "the message holding their home card"),
            "home_requested": Column(OP, "a home card was asked for"),
            "updated_at": WHEN,
        },
    ),
    "inbound_events": Table(
        "every webhook delivery, stored once and processed after the answer",
        RETENTION,
        {
            "id": ID,
            "provider": Column(OP, "which webhook"),
            "event_id": Column(
                P,
                "keyed hash of the provider's event id (de-duplicates retries)",
                f"{OUTSIDE} {_days(DEDUPE_WINDOW)} after it arrived",
            ),
            "kind": Column(OP, "call or feedback"),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "payload": Column(
                P,
                "the event's facts, incl. the provider's call id and a scrubbed comment "
                "(the agent's name only as a marker)",
                "emptied when the event is processed (seconds)",
                transient=True,
            ),
            "received_at": WHEN,
            "processed_at": WHEN,
        },
    ),
    "calls": Table(
        "what Breather knows about each call, per agent",
        RETENTION,
        {
            "id": ID,
            "provider": Column(OP, "which phone system"),
            "call_id": Column(
                P,
                "keyed hash of the provider's call id and the agent (late events merge into it)",
                f"{OUTSIDE} {_days(LATE_EVENTS_KEEP)} after the call",
            ),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "started_at": WHEN,
            "ended_at": WHEN,
            "duration_s": Column(OP, "call facts (no person)"),
            "direction": Column(OP, "call facts"),
            "disconnected_by": Column(OP, "call facts"),
            "transfers": Column(OP, "call facts"),
            "hold_s": Column(OP, "call facts"),
            "sentiment": Column(OP, "the customer's sentiment (never the agent's)"),
            "csat": Column(OP, "the customer's rating"),
            "tags": Column(OP, "the provider's tags"),
            "queue": Column(OP, "queue or line name"),
            "hard": Column(OP, "judged hard"),
            "signals": Column(OP, "why"),
            "created_at": WHEN,
            "updated_at": WHEN,
        },
    ),
    "checkins": Table(
        "private check-ins after hard calls and the agent's answer",
        RETENTION,
        {
            "id": ID,
            "call_id": Column(OP, "the calls row (by row id)"),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "reasons": Column(OP, "signals that made the call hard"),
            "created_at": WHEN,
            "answer": Column(P, "ok, break or talk (under the pseudonym)"),
            "answered_at": WHEN,
        },
    ),
    "agent_prefs": Table(
        "the agent's own switches",
        "while the agent is in breather.yml; deleted when they leave it",
        {
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "paused": Column(P, "check-ins paused"),
            "paused_until": Column(P, "when a pause or time off ends by itself"),
            "surveys_opted_out": Column(P, "pulse surveys switched off"),
            "language": Column(P, "the language the agent chose for Breather's messages"),
            "platform_language": Column(
                P, "the language their chat platform reports (Slack or Teams locale)"
            ),
            "buddy": Column(P, "offers to be a buddy for their team"),
            "pairing": Column(P, "takes part in the team's coffee pairs"),
            "pairing_skip": Column(P, "a week of coffee pairs they skip"),
            "updated_at": WHEN,
        },
    ),
    "breaks": Table(
        "protected breaks set in the phone system",
        f"{RETENTION} (a running break is never purged)",
        {
            "id": ID,
            "request_key": Column(OP, "`checkin:<check-in id>`: one break per check-in"),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "provider": Column(OP, "which phone system"),
            "state": Column(P, "how it went (under the pseudonym)"),
            "minutes": Column(OP, "length"),
            "requested_at": WHEN,
            "started_at": WHEN,
            "ends_at": WHEN,
            "finished_at": WHEN,
            "next_attempt_at": WHEN,
            "attempts": Column(OP, "retries"),
            "claimed_at": WHEN,
            "last_error": Column(OP, "error class and HTTP status (no ids)"),
            "phone_user_id": Column(
                D, "the agent's id in the phone system", "only while the break runs", transient=True
            ),
            "previous_status": Column(P, "status to restore", "only while the break runs", transient=True),
            "break_status": Column(P, "the status Breather set", "only while the break runs", transient=True),
            "message_channel": Column(
                D, "DM channel of the check-in to update", "only until the break is set", transient=True
            ),
            "message_ts": Column(P, "the check-in message", "only until the break is set", transient=True),
        },
    ),
    "talk_requests": Table(
        "that an agent asked to talk, and to what kind of person; never to whom",
        RETENTION,
        {
            "id": ID,
            "request_key": Column(OP, "`checkin:<check-in id>`: one request per check-in"),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "kind": Column(P, "mate, lead or support"),
            "created_at": WHEN,
        },
    ),
    "buddy_asks": Table(
        "that an opted-in buddy was asked for a chat, under the buddy's pseudonym "
        "(the asker is the talk request's)",
        "7 days (the daily cap and the rotation need no more)",
        {
            "id": ID,
            "request_id": Column(OP, "the talk request it answers"),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "attempt": Column(OP, "1, or 2 when the first buddy could not"),
            "state": Column(P, "asked, free or cant"),
            "created_at": WHEN,
            "answered_at": WHEN,
        },
    ),
    "lead_prefs": Table(
        "a team lead's own switches (the daily thanks nudge; the language of a lead who is not an agent)",
        "while the person leads a team or administers Breather in breather.yml (deleted at the next start)",
        {
            "person_key": Column(P, "keyed hash of the lead's e-mail (re-made by key rotation)"),
            "thanks_off": Column(P, "daily thanks nudge switched off"),
            "language": Column(P, "the language the lead chose (`/breather language`, the Home tab)"),
            "platform_language": Column(
                P, "the language their chat platform reports (Slack or Teams locale)"
            ),
            "updated_at": WHEN,
        },
    ),
    "pairings": Table(
        "each person's place in a week's coffee pairs, under their pseudonym (a pair shares pair_id)",
        RETENTION,
        {
            "id": ID,
            "team_id": TEAM,
            "week_start": Column(OP, "the Monday of the week"),
            "pair_id": Column(P, "which rows form one pair"),
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "created_at": WHEN,
        },
    ),
    "survey_rounds": Table(
        "pulse-survey rounds per team (team-level counts only)",
        "kept (no person in it)",
        {
            "id": ID,
            "team_id": TEAM,
            "period_start": WHEN,
            "instruments": Column(OP, "which questionnaires"),
            "opened_at": WHEN,
            "closes_at": WHEN,
            "invited": Column(OP, "team-level count"),
            "responded": Column(OP, "team-level count"),
        },
    ),
    "survey_invitations": Table(
        "whom a round asked, for reminders",
        f"{RETENTION}, counted from the round's close",
        {
            "id": ID,
            "round_id": Column(OP, "the round"),
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "state": Column(P, "queued, sent, answered, skipped, withdrawn, expired"),
            "send_after": WHEN,
            "sent_at": WHEN,
            "reminded_at": WHEN,
            "answered_at": WHEN,
        },
    ),
    "survey_answers": Table(
        "answers per instrument, with its version",
        RETENTION,
        {
            "id": ID,
            "round_id": Column(OP, "the round"),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "instrument": Column(OP, "which questionnaire"),
            "instrument_version": Column(OP, "its version"),
            "answers": Column(P, "item answers"),
            "score": Column(P, "the instrument's score"),
            "flagged": Column(P, "at or past the instrument's threshold"),
            "submitted_at": WHEN,
        },
    ),
    "compliments": Table(
        "customers' compliments, scrubbed, under the agent's pseudonym",
        f"{RETENTION}; a compliment still shared keeps its row, emptied of the words",
        {
            "id": ID,
            "source": Column(OP, "which webhook, or `message` (`message-lead`: passed on by a lead)"),
            "source_key": Column(
                P,
                "keyed hash of where it came from (an event id; a message and its recipient)",
                f"{OUTSIDE} {_days(LATE_EVENTS_KEEP)} after it arrived",
            ),
            "team_id": TEAM,
            "pseudonym": PSEUDONYM,
            "kid": KID,
            "text": Column(P, "the scrubbed words; the agent's name only as a marker, filled in when shown"),
            "status": Column(P, "pending, shared, private, expired, removed"),
            "received_at": WHEN,
            "decided_at": WHEN,
            "removed_at": WHEN,
            "post_channel": Column(OP, "the team channel it was shared in (the agent chose to share it)"),
            "post_ts": Column(OP, "the channel post, so the agent can take it down"),
        },
    ),
    "kudos": Table(
        "that someone sent kudos (the words went to the channel and are not kept)",
        RETENTION,
        {
            "id": ID,
            "team_id": TEAM,
            "author_key": Column(
                P, "keyed hash of the author (agent id or lead's e-mail), for the daily limit"
            ),
            "created_at": WHEN,
        },
    ),
    "digest_releases": Table(
        "released digest figures, frozen, with who contributed (for the differencing guard)",
        RETENTION,
        {
            "id": ID,
            "team_id": TEAM,
            "period_start": WHEN,
            "metric": Column(OP, "figure family"),
            "scope": Column(OP, "team or queue"),
            "values": Column(OP, "team-level figures (passed the anonymity gate)"),
            "contributors": Column(P, "keyed fingerprints of the contributors' pseudonyms"),
            "kid": KID,
            "released_at": WHEN,
        },
    ),
    "digest_access_log": Table(
        "every read of a team digest, for the works council's audit",
        f"{_days(ACCESS_LOG_KEEP)}",
        {
            "id": ID,
            "reader": Column(D, "who read it: a team lead's or admin's e-mail, or the CLI"),
            "team_id": TEAM,
            "via": Column(OP, "command, home, weekly DM or CLI"),
            "at": WHEN,
        },
    ),
    "surge_alerts": Table(
        "when a team's surge alert last went out",
        RETENTION,
        {"id": ID, "team_id": TEAM, "sent_at": WHEN},
    ),
    "outbox": Table(
        "every outbound chat message, until delivered",
        f"{_days(OUTBOX_KEEP)} after it was queued (or `retention_days`, if shorter)",
        {
            "id": ID,
            "key": Column(
                P, "keyed hash of the message's key (`checkin:<id>:answer`, ...): nothing sent twice"
            ),
            "kind": Column(OP, "direct, channel, update, file, home, delete"),
            "channel_key": Column(
                P,
                "the conversation, for pacing: a keyed hash for a person, or a team channel",
                "a person's: erased once the message is final",
                transient=True,
            ),
            "target": Column(
                D, "the recipient (chat ids, e-mail)", "erased once the message is final", transient=True
            ),
            "payload": Column(D, "the message itself", "erased once the message is final", transient=True),
            "status": Column(OP, "pending, sending, sent, failed"),
            "attempts": Column(OP, "tries"),
            "next_attempt_at": WHEN,
            "claimed_at": WHEN,
            "last_error": Column(OP, "the platform's error code, or an exception's class"),
            "result": Column(OP, "where a team-channel post landed (nothing for a person's messages)"),
            "created_at": WHEN,
            "sent_at": WHEN,
        },
    ),
    "sandbox_messages": Table(
        "the sandbox messenger's stand-in for Slack (demo only; empty with Slack or Teams)",
        RETENTION,
        {
            "id": ID,
            "conversation": Column(D, "the demo conversation (DM or channel)"),
            "ts": Column(OP, "message id"),
            "kind": Column(OP, "message, home, modal"),
            "payload": Column(D, "what Slack would show, addressed by e-mail"),
            "created_at": WHEN,
            "updated_at": WHEN,
        },
    ),
    "seen_requests": Table(
        "signed Slack requests already handled, so a replay within the signature window does nothing",
        "twice the signature window (10 minutes), pruned as new requests arrive",
        {
            "digest": Column(OP, "keyed hash of a request signature: tells two copies apart"),
            "seen_at": WHEN,
        },
    ),
    "alembic_version": Table(
        "the schema revision",
        "always",
        {"version_num": Column(OP, "revision id")},
    ),
}


def naming_columns() -> set[tuple[str, str]]:
    """(table, column) that name people at rest, on purpose: the directory."""
    return {
        (table, name)
        for table, spec in INVENTORY.items()
        for name, column in spec.columns.items()
        if column.kind is D and not column.transient
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """docs/privacy/data-inventory.md."""
    lines = [
        "# Data inventory",
        "",
        "Generated from `bot/data_inventory.py` by `make inventory`; do not edit by hand (a test",
        "compares this file with the generator's output, and fails when the schema has a column",
        "the inventory does not classify).",
        "",
        "Classes: **directory** names people on purpose (the directory tables, and who read a",
        "digest); **pseudonymous** is about one person but only under a keyed pseudonym or as a",
        "keyed hash, unlinkable without the pseudonym key, which is never stored in the database;",
        "**operational** is about no person. How keyed hashes and key rotation work:",
        "[at-rest.md](at-rest.md).",
        "",
    ]
    for name, table in INVENTORY.items():
        lines += [
            f"## `{name}`",
            "",
            f"{table.purpose[:1].upper()}{table.purpose[1:]}. Kept: {table.kept}.",
            "",
        ]
        lines += ["| column | class | holds | kept |", "|---|---|---|---|"]
        for column, spec in table.columns.items():
            kept = spec.kept or "with the row"
            lines.append(f"| `{column}` | {spec.kind.value} | {_cell(spec.holds)} | {_cell(kept)} |")
        lines.append("")
    return "\n".join(lines)


def render_dpia_summary() -> str:
    """The DPIA's table of what is stored (docs/privacy/dpia.md, between its inventory markers)."""
    lines = [
        "| table | what it holds | classes of its columns | kept |",
        "|---|---|---|---|",
    ]
    for name, table in INVENTORY.items():
        kinds = sorted({column.kind.value for column in table.columns.values()})
        lines.append(f"| `{name}` | {_cell(table.purpose)} | {', '.join(kinds)} | {_cell(table.kept)} |")
    return "\n".join(lines) + "\n"


DPIA_START, DPIA_END = "<!-- inventory:start -->\n", "<!-- inventory:end -->"


def with_dpia_summary(dpia: str) -> str:
    """`dpia` with its generated block replaced by the current inventory."""
    head, rest = dpia.split(DPIA_START, 1)
    _, tail = rest.split(DPIA_END, 1)
    return head + DPIA_START + render_dpia_summary() + DPIA_END + tail


if __name__ == "__main__":
    if sys.argv[1:] == ["--dpia"]:
        sys.stdout.write(with_dpia_summary(sys.stdin.read()))
    else:
        sys.stdout.write(render())
