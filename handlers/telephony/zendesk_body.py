"""Reading a webhook body written by a Zendesk trigger, as Zendesk really renders it.

The operator writes the JSON body with placeholders; Zendesk pastes each placeholder's text in
as it is, without JSON escaping. Ids and Breather's literal score are always safe, but the
customer's comment and name are free text: a line break, a tab, a double quote or a backslash in
them makes the body invalid JSON. So:

1. The body is parsed as JSON, with raw line breaks and tabs allowed inside strings. A key given
   twice is refused, because a comment can only repeat a key by breaking out of its string.
2. If that fails, the free-text values (`comment`, `name`) are cut out where Breather's trigger
   bodies put them (each ends at the next key of the body, or at the closing braces of the
   body; the documented body puts the comment last), escaped, and the body is parsed again.
   Free text that ends its string early to add a key of its own repeats a key of the body,
   and is refused by step 1's rule: nothing a customer types changes the score or the agent.

What still does not parse is answered 400, naming the trigger body as the thing to check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.errors import InvalidInput
from handlers import boundary

FREE_TEXT = ("comment", "name")
# Keys that can follow a free-text value in Breather's trigger bodies (this one and the earlier
# layout, where the comment came before `assignee_id` and `ticket_id`).
NEXT_KEYS = (
    "assignee_id",
    "ticket_id",
    "id",
    "score",
    "rating",
    "scale",
    "ticket",
    "requester",
    "satisfaction_rating",
    "tags",
    "type",
)
_START = {key: re.compile(rf'"{key}"\s*:\s*"') for key in FREE_TEXT}
# The end of a string value: its quote, maybe the braces of objects it ends, then the next key.
_NEXT_KEY = re.compile(r'"\s*(?:}\s*)*,\s*"(?:' + "|".join(NEXT_KEYS + FREE_TEXT) + r')"\s*:')
_LAST = re.compile(r'"\s*(?:}\s*)+$')


class DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def _load(text: str) -> Any:
    # The boundary's rules (depth, numbers, text) hold here too; raw line breaks are allowed.
    return boundary.load_json(text, strict=False, pairs_hook=_pairs)


def _value_end(text: str, start: int) -> int | None:
    """Where a free-text value that starts at `start` ends: before the next key of the body,
    or before the braces that close the body."""
    following = _NEXT_KEY.search(text, start)
    if following is not None:
        return following.start()
    last = _LAST.search(text, start)
    return last.start() if last is not None else None


def _salvaged(text: str) -> str | None:
    spans: list[tuple[int, int]] = []
    for key in FREE_TEXT:
        found = _START[key].search(text)
        if found is None:
            continue
        end = _value_end(text, found.end())
        if end is None:
            return None
        spans.append((found.end(), end))
    if not spans:
        return None
    spans.sort()
    if any(a_end > b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False)):
        return None  # one free text inside the other: no reading of this body is safe
    out, position = [], 0
    for start, end in spans:
        out.append(text[position:start])
        out.append(json.dumps(text[start:end], ensure_ascii=False)[1:-1])
        position = end
    out.append(text[position:])
    return "".join(out)


def read(body: bytes) -> tuple[dict[str, Any], bool]:
    """The body as a JSON object, read as described above, and whether its free text had to be
    cut out (it was not valid JSON as sent); InvalidInput (400) otherwise."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("body is not valid UTF-8", status=400) from None
    data: Any = None
    salvaged = False
    for attempt in (text, None):
        if attempt is None:
            attempt = _salvaged(text)
            salvaged = True
            if attempt is None:
                continue
        try:
            data = _load(attempt)
        except DuplicateKey as key:
            raise InvalidInput(
                f"{key}: given twice; a comment or name in the body may have ended its string early "
                "(use the trigger body from docs/phone-systems/zendesk.md, free text last)",
                status=400,
            ) from None
        except boundary.NotJson:
            continue  # a body that parses but breaks a rule is refused as it is
        break
    if data is None:
        raise InvalidInput(
            "body is not valid JSON: check the trigger's JSON body against docs/phone-systems/zendesk.md",
            status=400,
        )
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object", status=400)
    return data, salvaged
