"""`@name` in the console's composer, resolved to a person the way Slack's composer does.

In Slack you type `@an`, pick Ana from the list, and the command arrives with `<@U0ANA|ana>`
(the `/kudos` command escapes mentions). The console has no pop-up list, so it resolves what
was typed after `@`: an e-mail address's local part (`@ana`), a whole name without spaces or with
dots (`@AnaPopescu`, `@ana.popescu`) or a first name (`@Ana`), in any case, in that order of
preference. A word that names nobody, or more than one person, stays as typed, as Slack leaves
an unmatched `@word`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MENTION = re.compile(r"(?<![<\w@])@([A-Za-z][\w.\-]*[\w])")


def _tiers(email: str, name: str) -> tuple[set[str], ...]:
    """What may name a person, surest first: their address, their whole name, their first name."""
    words = name.split()
    whole = {"".join(words), ".".join(words)} if words else set()
    first = {words[0]} if words else set()
    return tuple({key.casefold() for key in keys if key} for keys in ({email.split("@", 1)[0]}, whole, first))


def resolve_mentions(text: str, people: Iterable[tuple[str, str, str]]) -> str:
    """Replace `@word` with Slack's `<@USER_ID|word>` for the one person (user id, e-mail, name) it
    names; the first of address, whole name and first name that fits wins."""
    tiers: list[dict[str, set[str]]] = [{}, {}, {}]
    for user_id, email, name in people:
        for index, keys in zip(tiers, _tiers(email, name), strict=True):
            for key in keys:
                index.setdefault(key, set()).add(user_id)

    def replace(match: re.Match[str]) -> str:
        word = match.group(1).casefold()
        for index in tiers:
            found = index.get(word)
            if found:
                return f"<@{next(iter(found))}|{match.group(1)}>" if len(found) == 1 else match.group(0)
        return match.group(0)

    return MENTION.sub(replace, text)
