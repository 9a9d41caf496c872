"""Keyed pseudonyms for everything stored about an agent's wellbeing.

pseudonym = HMAC-SHA256(key, "breather/v1/agent/" + stable agent id), stored with the key id.
Without the key (held only by the running app) a pseudonym cannot be linked to a person.
"""

from __future__ import annotations

import hashlib
import hmac

_DOMAIN = b"breather/v1/agent/"


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self.kid = "k" + hashlib.sha256(b"breather/kid/" + key).hexdigest()[:8]

    def of(self, agent_id: str) -> str:
        return hmac.new(self._key, _DOMAIN + agent_id.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymizer(kid={self.kid!r})"
