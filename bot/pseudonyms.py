"""Keyed pseudonyms and keyed hashes for everything stored about people, under several live keys.

    pseudonym   = HMAC-SHA256(key, "breather/v1/agent/" + stable agent id)        (hex, 64)
    token       = kid "." HMAC-SHA256(token key, purpose US value US ...)[:32 hex]
    fingerprint = HMAC-SHA256(contributor key, pseudonym)[:16 hex]
    token key   = HMAC-SHA256(key, "breather/v1/subkey/tokens")          (one sub-key per use,
    contributor key = HMAC-SHA256(key, "breather/v1/subkey/contributors")  domain-separated)
    kid         = "k" + SHA-256("breather/kid/" + key)[:8 hex]

A token replaces an identifier that must outlive the work it was needed for (an outbox key, a
provider's event or call id): equal inputs give equal tokens, so it still deduplicates, but
without the key nobody can test a guess (an agent id, an e-mail, a call id from the phone
system's log) against it. It names its key (the kid prefix), so during a key rotation a look-up
tries every live key. None of these keys is stored in the database.

`Keyring` holds the current key (`BREATHER_PSEUDONYM_KEY`, used for everything written) and the
previous ones (`BREATHER_PSEUDONYM_KEYS_OLD`, only read with, until `breather keys rotate` has
moved everything to the current key).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

_AGENT = b"breather/v1/agent/"
_TOKENS = b"breather/v1/subkey/tokens"
_CONTRIBUTORS = b"breather/v1/subkey/contributors"
_SEPARATOR = "\x1f"
TOKEN_HEX = 32


def kid_of(key: bytes) -> str:
    return "k" + hashlib.sha256(b"breather/kid/" + key).hexdigest()[:8]


def token_kid(token: str) -> str | None:
    """The key id a stored token was made with; None for anything that is not a token."""
    kid, dot, digest = token.partition(".")
    if dot and len(kid) == 9 and kid.startswith("k") and len(digest) == TOKEN_HEX:
        return kid
    return None


class Key:
    """One pseudonym key and the sub-keys derived from it."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.kid = kid_of(secret)
        self._tokens = hmac.new(secret, _TOKENS, hashlib.sha256).digest()
        self._contributors = hmac.new(secret, _CONTRIBUTORS, hashlib.sha256).digest()

    def of(self, agent_id: str) -> str:
        """The agent's pseudonym under this key."""
        return hmac.new(self._secret, _AGENT + agent_id.encode(), hashlib.sha256).hexdigest()

    def token(self, purpose: str, *parts: str) -> str:
        message = _SEPARATOR.join((purpose, *parts)).encode()
        return f"{self.kid}.{hmac.new(self._tokens, message, hashlib.sha256).hexdigest()[:TOKEN_HEX]}"

    def fingerprint(self, pseudonym: str) -> str:
        return hmac.new(self._contributors, pseudonym.encode(), hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:  # never show the key
        return f"Key(kid={self.kid!r})"


_UNSEEN = "\0unseen"  # not a fingerprint: marks a pseudonym not fingerprinted yet


class Keyring:
    """The current key, which everything new is written with, and older keys still read with."""

    def __init__(self, current: bytes, old: Sequence[bytes] = ()) -> None:
        self.current = Key(current)
        seen = {self.current.kid}
        older: list[Key] = []
        for secret in old:
            key = Key(secret)
            if key.kid not in seen:
                seen.add(key.kid)
                older.append(key)
        self.old = tuple(older)
        self.keys = (self.current, *self.old)

    @property
    def kid(self) -> str:
        return self.current.kid

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(key.kid for key in self.keys)

    def key(self, kid: str) -> Key | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def of(self, agent_id: str) -> str:
        """The agent's current pseudonym (what new rows are written under)."""
        return self.current.of(agent_id)

    def pseudonyms(self, agent_id: str) -> tuple[str, ...]:
        """The agent's pseudonym under every live key, the current one first."""
        return tuple(key.of(agent_id) for key in self.keys)

    def token(self, purpose: str, *parts: str) -> str:
        return self.current.token(purpose, *parts)

    def tokens(self, purpose: str, *parts: str) -> tuple[str, ...]:
        """The token under every live key, the current one first (for look-ups)."""
        return tuple(key.token(purpose, *parts) for key in self.keys)

    def __repr__(self) -> str:  # never show a key
        return f"Keyring(current={self.kid!r}, old={[key.kid for key in self.old]!r})"


class People:
    """Who is who across live keys, for counting people: while a rotation is under way one
    person's rows may carry their old and their new pseudonym, and must still count once."""

    def __init__(self, keyring: Keyring, agent_ids: Iterable[str] = ()) -> None:
        self.keyring = keyring
        self._current: dict[str, str] = {}
        self._agent: dict[str, str] = {}
        # A digest fingerprints the same few hundred people for some sixty figures: remember them.
        self._prints: dict[tuple[str, str | None], str | None] = {}
        if keyring.old:
            for agent_id in agent_ids:
                current = keyring.current.of(agent_id)
                self._agent[current] = agent_id
                for key in keyring.old:
                    self._current[key.of(agent_id)] = current

    def canonical(self, pseudonym: str) -> str:
        """The person's current pseudonym, given any live one."""
        return self._current.get(pseudonym, pseudonym)

    def fingerprint(self, pseudonym: str, kid: str | None = None) -> str | None:
        """A keyed fingerprint of the person (given any live pseudonym) under key `kid`
        (default: the current key); None when that key is not live."""
        remembered = self._prints.get((pseudonym, kid), _UNSEEN)
        if remembered is not _UNSEEN:
            return remembered
        found = self._fingerprint(pseudonym, kid)
        self._prints[(pseudonym, kid)] = found
        return found

    def _fingerprint(self, pseudonym: str, kid: str | None) -> str | None:
        key = self.keyring.current if kid is None else self.keyring.key(kid)
        if key is None:
            return None
        current = self.canonical(pseudonym)
        if key is self.keyring.current:
            return key.fingerprint(current)
        agent_id = self._agent.get(current)
        return key.fingerprint(key.of(agent_id) if agent_id is not None else current)
