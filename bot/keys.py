"""Pseudonym key rotation, key usage, and the one-time conversion of data stored before keyed
hashes existed (migration 0008).

What is stored under a pseudonym key, and what a rotation does with it (docs/privacy/at-rest.md):

- pseudonyms (`PSEUDONYM_TABLES`, each row with its `kid`): re-keyed. The `agents` table keeps
  every stable agent id ever used, so every old pseudonym maps to exactly one new one;
- keyed hashes Breather can make again: kudos authors (from agent ids and the e-mails in
  breather.yml) and the digest release log's contributor fingerprints: re-keyed;
- keyed hashes of outside ids Breather no longer holds (`DEDUPE_COLUMNS`: a provider's event
  and call ids, outbox keys, where a compliment came from): one-way, so they cannot be re-keyed.
  They keep matching under the old key until the daily purge clears them (48 hours for events,
  7 days for the rest), or at once with `--now` (for a key that leaked), which only costs
  de-duplication of work already done.

The running app reads under every live key and writes under the current one, so rotation runs
in small batches (one transaction each) while `breather serve` keeps working.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, String, and_, bindparam, cast, func, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from bot.compliments import names
from bot.config import BreatherConfig
from bot.lead_prefs import lead_emails
from bot.pseudonyms import Key, Keyring, token_kid
from storage.models import (
    Agent,
    AgentPrefs,
    Break,
    BuddyAsk,
    Call,
    ChatAddress,
    Checkin,
    Compliment,
    DigestRelease,
    InboundEvent,
    Kudos,
    LeadPrefs,
    OutboxMessage,
    OutboxStatus,
    Pairing,
    SurveyAnswer,
    SurveyInvitation,
    TalkRequest,
)

log = logging.getLogger(__name__)

LEAD_PREFS = "lead-prefs"  # the token purpose of a lead's switches (bot/lead_prefs.py)
# Tables with a `pseudonym` column and the `kid` it was made with, and their row identity.
PSEUDONYM_TABLES: tuple[tuple[Any, str], ...] = (
    (InboundEvent.__table__, "id"),  # type: ignore[attr-defined]
    (Call.__table__, "id"),  # type: ignore[attr-defined]
    (Checkin.__table__, "id"),  # type: ignore[attr-defined]
    (AgentPrefs.__table__, "pseudonym"),  # type: ignore[attr-defined]
    (Compliment.__table__, "id"),  # type: ignore[attr-defined]
    (Break.__table__, "id"),  # type: ignore[attr-defined]
    (TalkRequest.__table__, "id"),  # type: ignore[attr-defined]
    (BuddyAsk.__table__, "id"),  # type: ignore[attr-defined]
    (Pairing.__table__, "id"),  # type: ignore[attr-defined]
    (SurveyInvitation.__table__, "id"),  # type: ignore[attr-defined]
    (SurveyAnswer.__table__, "id"),  # type: ignore[attr-defined]
)
# Unique constraints that include the pseudonym: a person can have only one such row.
PERSON_UNIQUE: dict[str, tuple[str, ...]] = {
    "agent_prefs": (),
    "survey_invitations": ("round_id",),
    "pairings": ("team_id", "week_start"),
    "survey_answers": ("round_id", "instrument"),
}
# Keyed hashes of outside ids: (table, column, when the work needing it is done).
DEDUPE_COLUMNS: tuple[tuple[Any, str, Any], ...] = (
    (InboundEvent.__table__, "event_id", InboundEvent.__table__.c.processed_at.is_not(None)),  # type: ignore[attr-defined]
    (
        OutboxMessage.__table__,  # type: ignore[attr-defined]
        "key",
        OutboxMessage.__table__.c.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]),  # type: ignore[attr-defined]
    ),
    (Call.__table__, "call_id", literal(True)),  # type: ignore[attr-defined]
    (Compliment.__table__, "source_key", literal(True)),  # type: ignore[attr-defined]
)
MAP_TABLE = "breather_rekey"


def cast_list(value: Any) -> list[Any]:
    """A JSON list column's value (some drivers hand back the text)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value) if isinstance(value, list) else []


def forgotten(table: Any) -> Any:
    """What a cleared keyed hash becomes: unique per row, and about nothing."""
    return literal("-").concat(cast(table.c.id, String))


# --- who is who --------------------------------------------------------------------------------


def agent_ids(connection: Connection) -> list[tuple[str, str]]:
    """Every stable agent id and name the directory holds (people who left included)."""
    agents = Agent.__table__  # type: ignore[attr-defined]
    return [(row.id, row.name) for row in connection.execute(select(agents.c.id, agents.c.name))]


def kudos_authors(key: Key, agents: Iterable[str], leads: Iterable[str]) -> dict[str, str]:
    """author key -> who, under one key (bot/compliments/actions.py makes them this way)."""
    found = {key.token("kudos-author", "agent", agent_id): f"agent:{agent_id}" for agent_id in agents}
    found.update({key.token("kudos-author", "person", email): f"person:{email}" for email in leads})
    return found


# --- usage -------------------------------------------------------------------------------------


def _counts(connection: Connection, statement: Any) -> list[tuple[str, int]]:
    rows: Sequence[Any] = connection.execute(statement).all()
    return [(str(kid), int(n)) for kid, n in rows]


@dataclass(frozen=True)
class Use:
    kid: str
    place: str  # "table.column"
    rows: int


def usage(engine: Engine) -> list[Use]:
    """How many stored values each key id holds, per table and column."""
    found: list[Use] = []
    with engine.connect() as connection:
        for table, _ in PSEUDONYM_TABLES:
            statement = select(table.c.kid, func.count()).group_by(table.c.kid)
            found += [Use(kid, f"{table.name}.pseudonym", n) for kid, n in _counts(connection, statement)]
        releases = DigestRelease.__table__  # type: ignore[attr-defined]
        statement = select(releases.c.kid, func.count()).group_by(releases.c.kid)
        found += [Use(kid, "digest_releases.contributors", n) for kid, n in _counts(connection, statement)]
        kudos = Kudos.__table__  # type: ignore[attr-defined]
        # (An outbox row's conversation key is a keyed hash too, but only while the message is
        # waiting: it is erased once the row is final, so it is no lasting use of a key.)
        columns = [(kudos, "author_key"), *((table, column) for table, column, _ in DEDUPE_COLUMNS)]
        for table, column in columns:
            prefix = func.substr(table.c[column], 1, 9)
            statement = (
                select(prefix, func.count()).where(table.c[column].like("k________.%")).group_by(prefix)
            )
            found += [Use(kid, f"{table.name}.{column}", n) for kid, n in _counts(connection, statement)]
    return [use for use in found if use.rows]


# --- rotation ----------------------------------------------------------------------------------


@dataclass
class Rotation:
    old: str
    new: str
    rekeyed: dict[str, int] = field(default_factory=dict)
    forgotten: dict[str, int] = field(default_factory=dict)
    merged: int = 0
    remaining: list[Use] = field(default_factory=list)

    @property
    def retired(self) -> bool:
        return not self.remaining


Progress = Callable[[str], None]


def _fill_map(connection: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {MAP_TABLE} (old VARCHAR(64) PRIMARY KEY, new VARCHAR(64))"
        )
    )
    connection.execute(text(f"DELETE FROM {MAP_TABLE}"))
    rows = [{"old": old, "new": new} for old, new in dict(pairs).items()]
    if rows:
        connection.execute(text(f"INSERT INTO {MAP_TABLE} (old, new) VALUES (:old, :new)"), rows)


def _in_batches(
    connection: Connection,
    table: Any,
    identity: str,
    where: Any,
    values: dict[str, Any],
    batch: int,
    progress: Progress,
    *,
    page_where: Any = None,
) -> int:
    """Apply `values` to the rows matching `where`, `batch` rows per transaction (so the running
    app waits for at most one batch), walking the primary key so no batch rescans the rows
    already done. `page_where` is a cheaper part of `where` to pick each page's keys with (the
    rest is checked by the UPDATE itself). Returns how many rows changed."""
    key = table.c[identity]
    total, after = 0, None
    while True:
        page = select(key).where(where if page_where is None else page_where).order_by(key).limit(batch)
        if after is not None:
            page = page.where(key > after)
        ids: list[Any] = list(connection.execute(page).scalars())
        if not ids:
            return total
        changed = connection.execute(update(table).where(key.in_(ids), where).values(values)).rowcount
        connection.commit()
        total += max(changed or 0, 0)
        after = ids[-1]
        progress(f"  {table.name}: {total}")


def _merge_person_rows(connection: Connection, table: Any, old: str, new: str) -> int:
    """Before re-keying a table where a person has one row (their switches, one invitation per
    round), resolve the rare case where the app wrote a new-key row while an old-key one existed:
    the more recently changed row wins."""
    together = PERSON_UNIQUE[table.name]
    remap = text(f"SELECT old, new FROM {MAP_TABLE}")
    mapping: dict[str, str] = {str(old): str(new) for old, new in connection.execute(remap)}
    rows = connection.execute(select(table).where(table.c.kid.in_([old, new]))).mappings().all()
    by_slot: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        person = mapping.get(row["pseudonym"], row["pseudonym"])
        by_slot.setdefault((person, *(row[c] for c in together)), []).append(row)
    merged = 0
    for slot_rows in by_slot.values():
        if len(slot_rows) < 2:
            continue
        stamp = (
            "updated_at"
            if "updated_at" in table.c
            else ("submitted_at" if "submitted_at" in table.c else "send_after")
        )
        keep = max(slot_rows, key=lambda r: (r[stamp] is not None, r[stamp] or 0))
        for row in slot_rows:
            if row is keep:
                continue
            identity = table.c.pseudonym if table.name == "agent_prefs" else table.c.id
            value = row["pseudonym"] if table.name == "agent_prefs" else row["id"]
            connection.execute(table.delete().where(identity == value))
            merged += 1
    connection.commit()
    return merged


def rotate(
    engine: Engine,
    keyring: Keyring,
    *,
    config: BreatherConfig | None = None,
    batch: int = 2000,
    now: bool = False,
    progress: Progress = lambda _: None,
) -> list[Rotation]:
    """Move everything stored under the keyring's old keys to its current key; see the module
    docstring. `now` also clears, at once, old-key hashes of outside ids whose work is done."""
    results: list[Rotation] = []
    new = keyring.current
    with engine.connect() as connection:
        agents = agent_ids(connection)
        for old in keyring.old:
            result = Rotation(old=old.kid, new=new.kid)
            progress(f"re-keying data under {old.kid} to {new.kid}")
            _fill_map(connection, ((old.of(agent_id), new.of(agent_id)) for agent_id, _ in agents))
            connection.commit()
            for table, identity in PSEUDONYM_TABLES:
                result.rekeyed[f"{table.name}.pseudonym"] = _rekey_pseudonyms(
                    connection, table, identity, old.kid, new.kid, batch, progress, result
                )
            result.rekeyed["kudos.author_key"] = _rekey_kudos(
                connection, old, new, [a for a, _ in agents], lead_emails(config), batch, progress
            )
            result.rekeyed["lead_prefs.person_key"] = _rekey_lead_prefs(
                connection, old, new, lead_emails(config), batch, progress
            )
            result.rekeyed["digest_releases.contributors"] = _rekey_fingerprints(
                connection, old, new, [a for a, _ in agents], batch, progress
            )
            if now:
                result.forgotten = forget(connection, old.kid, batch, progress)
            connection.execute(text(f"DELETE FROM {MAP_TABLE}"))
            connection.commit()
            results.append(result)
    remaining = usage(engine)
    for result in results:
        result.remaining = [use for use in remaining if use.kid == result.old]
    return results


def _rekey_pseudonyms(
    connection: Connection,
    table: Any,
    identity: str,
    old: str,
    new: str,
    batch: int,
    progress: Progress,
    result: Rotation,
) -> int:
    mapped = text(f"SELECT new FROM {MAP_TABLE} WHERE {MAP_TABLE}.old = {table.name}.pseudonym")
    known = text(f"SELECT old FROM {MAP_TABLE}").columns(old=String)
    where = and_(table.c.kid == old, table.c.pseudonym.in_(known))
    values = {"pseudonym": mapped.columns(new=String).scalar_subquery(), "kid": new}
    total = 0
    for attempt in range(4):
        if table.name in PERSON_UNIQUE:
            # A person's row written by the app under the new key while the old one existed
            # is merged first; a conflict mid-way (written meanwhile) is merged and retried.
            result.merged += _merge_person_rows(connection, table, old, new)
        try:
            return total + _in_batches(
                connection, table, identity, where, values, batch, progress, page_where=table.c.kid == old
            )
        except IntegrityError:
            connection.rollback()
            if attempt == 3:
                raise
    return total


def _rekey_kudos(
    connection: Connection,
    old: Key,
    new: Key,
    agents: Sequence[str],
    leads: Sequence[str],
    batch: int,
    progress: Progress,
) -> int:
    before = kudos_authors(old, agents, leads)
    after = {who: token for token, who in kudos_authors(new, agents, leads).items()}
    _fill_map(connection, ((token, after[who]) for token, who in before.items()))
    connection.commit()
    kudos = Kudos.__table__  # type: ignore[attr-defined]
    mapped = text(f"SELECT new FROM {MAP_TABLE} WHERE {MAP_TABLE}.old = kudos.author_key")
    # An author Breather no longer knows (left breather.yml) is forgotten: the key only ever
    # served the limit of kudos per 24 hours.
    values = {"author_key": func.coalesce(mapped.columns(new=String).scalar_subquery(), "-")}
    return _in_batches(
        connection, kudos, "id", kudos.c.author_key.like(f"{old.kid}.%"), values, batch, progress
    )


def _rekey_lead_prefs(
    connection: Connection, old: Key, new: Key, leads: Sequence[str], batch: int, progress: Progress
) -> int:
    """A lead's switches are keyed by their e-mail (bot/lead_prefs.py), which breather.yml
    still lists: made again under the new key. A lead no longer listed loses the switch."""
    prefs = LeadPrefs.__table__  # type: ignore[attr-defined]
    mapping = {old.token(LEAD_PREFS, email): new.token(LEAD_PREFS, email) for email in leads}
    rows = connection.execute(select(prefs.c.person_key).where(prefs.c.person_key.like(f"{old.kid}.%"))).all()
    moved = 0
    for (key,) in rows:
        target = mapping.get(str(key))
        taken = (
            target is not None
            and connection.execute(select(prefs.c.person_key).where(prefs.c.person_key == target)).first()
        )
        if target is None or taken:
            # Unknown lead, or a switch already written under the new key: that one wins.
            connection.execute(prefs.delete().where(prefs.c.person_key == key))
        else:
            connection.execute(prefs.update().where(prefs.c.person_key == key).values(person_key=target))
        moved += 1
    connection.commit()
    if moved:
        progress(f"lead_prefs: {moved} re-keyed")
    return moved


def _rekey_fingerprints(
    connection: Connection, old: Key, new: Key, agents: Sequence[str], batch: int, progress: Progress
) -> int:
    releases = DigestRelease.__table__  # type: ignore[attr-defined]
    mapping = {old.fingerprint(old.of(a)): new.fingerprint(new.of(a)) for a in agents}
    total = 0
    while True:
        rows = connection.execute(
            select(releases.c.id, releases.c.contributors).where(releases.c.kid == old.kid).limit(batch)
        ).all()
        if not rows:
            return total
        for row_id, contributors in rows:
            # One Breather cannot place (it never should happen) becomes someone new: comparing
            # releases then finds a difference rather than missing one.
            listed: list[str] = [str(fp) for fp in cast_list(contributors)]
            moved = [mapping.get(fp) or secrets.token_hex(8) for fp in listed]
            connection.execute(
                update(releases)
                .where(releases.c.id == row_id)
                .values(contributors=sorted(moved), kid=new.kid)
            )
        connection.commit()
        total += len(rows)
        progress(f"  digest_releases: {total}")


def forget(connection: Connection, kid: str, batch: int, progress: Progress) -> dict[str, int]:
    """Clear keyed hashes of outside ids made with `kid` whose work is done."""
    counts: dict[str, int] = {}
    for table, column, done in DEDUPE_COLUMNS:
        where = and_(table.c[column].like(f"{kid}.%"), done)
        counts[f"{table.name}.{column}"] = _in_batches(
            connection, table, "id", where, {column: forgotten(table)}, batch, progress
        )
    return counts


# --- data stored before keyed hashes (migration 0008) ------------------------------------------


def legacy_conversion(keyring: Keyring) -> Callable[[Connection], object]:
    """What migration 0008 calls to convert rows stored before keyed hashes."""
    return lambda connection: convert_legacy(connection, keyring)


def convert_legacy(connection: Connection, keyring: Keyring) -> dict[str, int]:
    """Hash, with the current key, the identifiers rows stored in the clear before keyed hashes
    existed; clear what cannot be hashed. Runs inside migration 0008's transaction."""
    key = keyring.current
    people: dict[str, tuple[str, str]] = {}
    for agent_id, name in agent_ids(connection):
        for live in keyring.keys:
            people[live.of(agent_id)] = (agent_id, name)

    def legacy(value: str | None) -> bool:
        return bool(value) and token_kid(value or "") is None and not (value or "").startswith("-")

    counts: dict[str, int] = {}

    def convert(table: Any, columns: Sequence[str], change: Callable[[Any], dict[str, Any] | None]) -> None:
        rows = connection.execute(select(table.c.id, *(table.c[c] for c in columns))).mappings().all()
        updates = []
        for row in rows:
            values = change(row)
            if values:
                updates.append({"row_id": row["id"], **values})
        for values in updates:
            row_id = values.pop("row_id")
            connection.execute(
                update(table).where(table.c.id == bindparam("row_id")), {"row_id": row_id, **values}
            )
        counts[table.name] = len(updates)

    events = InboundEvent.__table__  # type: ignore[attr-defined]
    convert(
        events,
        ("provider", "event_id", "processed_at"),
        lambda r: (
            {"event_id": key.token("event", r["provider"], r["event_id"])}
            | ({"payload": {}} if r["processed_at"] is not None else {})
            if legacy(r["event_id"])
            else None
        ),
    )

    calls = Call.__table__  # type: ignore[attr-defined]

    def call(r: Any) -> dict[str, Any] | None:
        if not legacy(r["call_id"]):
            return None
        owner = people.get(r["pseudonym"])
        if owner is None:
            return {"call_id": f"-{r['id']}"}
        return {"call_id": key.token("call", r["provider"], r["call_id"], owner[0])}

    convert(calls, ("provider", "call_id", "pseudonym"), call)

    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]

    def message(r: Any) -> dict[str, Any] | None:
        if not legacy(r["key"]):
            return None
        values: dict[str, Any] = {"key": key.token("outbox", r["key"])}
        channel = str(r["channel_key"])
        final = r["status"] in (OutboxStatus.SENT, OutboxStatus.FAILED)
        if final and not channel.startswith("channel:"):
            values["channel_key"] = ""
        elif channel.startswith("agent:"):
            values["channel_key"] = "dm:" + key.token("conversation", channel.removeprefix("agent:"))
        elif channel.startswith("home:"):
            values["channel_key"] = "home:" + key.token("conversation", channel.removeprefix("home:"))
        parts = str(r["key"]).split(":")
        if not final and len(parts) == 3 and parts[0] == "compliment" and parts[2] == "post":
            values["target"] = {**(r["target"] or {}), "ref": parts[1]}
        return values

    convert(outbox, ("key", "channel_key", "status", "target"), message)

    compliments = Compliment.__table__  # type: ignore[attr-defined]

    def compliment(r: Any) -> dict[str, Any] | None:
        if not legacy(r["source_key"]):
            return None
        owner = people.get(r["pseudonym"])
        return {
            "source_key": key.token("compliment", r["source"], r["source_key"]),
            "text": names.conceal(r["text"], owner[1]) if owner else r["text"],
        }

    convert(compliments, ("source", "source_key", "pseudonym", "text"), compliment)

    kudos = Kudos.__table__  # type: ignore[attr-defined]
    convert(kudos, ("author_key",), lambda r: {"author_key": "-"} if legacy(r["author_key"]) else None)

    addresses = ChatAddress.__table__  # type: ignore[attr-defined]
    counts["chat_addresses"] = (
        connection.execute(addresses.delete().where(addresses.c.agent_id.like("person:%"))).rowcount or 0
    )

    releases = DigestRelease.__table__  # type: ignore[attr-defined]
    plain = {
        hashlib.sha256(p.encode()).hexdigest()[:16]: key.fingerprint(key.of(a))
        for p, (a, _) in people.items()
    }

    def release(r: Any) -> dict[str, Any] | None:
        if r["kid"]:
            return None
        listed = (
            r["contributors"]
            if isinstance(r["contributors"], list)
            else json.loads(r["contributors"] or "[]")
        )
        return {
            "kid": key.kid,
            "contributors": sorted(plain.get(fp) or secrets.token_hex(8) for fp in listed),
        }

    convert(releases, ("contributors", "kid"), release)
    log.info("stored identifiers converted to keyed hashes: %s", counts)
    return counts
