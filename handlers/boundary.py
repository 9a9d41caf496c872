"""The one place where an inbound body becomes Python data, or a 4xx saying why it cannot.

Every endpoint that reads JSON (webhooks, /slack/events payloads, /api/messages, the sandbox
API) loads it through `load_json`, so the classes of input that used to reach deeper code and
fail there as a 5xx are refused here, before anything is stored:

- not UTF-8, or a byte-order mark;                             400
- not JSON, nested deeper than MAX_DEPTH;                       400
- NaN / Infinity / -Infinity, a float that overflows (1e999);  400
- a number longer than MAX_NUMBER_DIGITS (int() refuses those
  past 4,300 digits with a ValueError, and slowly before);     400
- a string with a NUL, another control character than tab,
  newline or carriage return, or a lone surrogate (PostgreSQL
  refuses NUL; a surrogate cannot be encoded to be stored);    422

`check_text` applies the same text rule to form fields (slash command text).
Where a refusal says the problem is (a key path, a form field's name) comes from the sender:
it is echoed escaped and cut to MAX_ECHO characters, so a refusal stays one short line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bot.errors import InvalidInput

MAX_DEPTH = 64  # real payloads (Slack views, Teams cards, provider bodies) stay under 20
MAX_NUMBER_DIGITS = 64  # a 64-bit id has 20 digits; a float's repr at most 24 characters
MAX_ECHO = 80  # characters of the sender's own names a refusal repeats
# C0 controls other than tab, newline and carriage return; DEL; and UTF-16 surrogates, which
# only a "\udXXX" escape can produce and which no encoder will store.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class NotJson(InvalidInput):
    """The body is no JSON text at all (as opposed to JSON breaking one of the rules)."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise InvalidInput("body has a number that is too long", status=400)
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise InvalidInput("body has a number that is too long", status=400)
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidInput("body has a number out of range", status=400)
    return value


def _parse_constant(name: str) -> Any:
    raise InvalidInput(f"body has {name}, which is not a JSON number", status=400)


def bad_text(value: str) -> str | None:
    """Why a string cannot be accepted, or None when it can."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "a lone surrogate"
    return "a NUL character" if char == "\x00" else "a control character"


def shown(where: str) -> str:
    """`where` fit to echo: what would not print escaped, at most MAX_ECHO characters."""
    visible = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in where)
    return visible if len(visible) <= MAX_ECHO else visible[: MAX_ECHO - 1] + "…"


def check_text(value: str, where: str = "text") -> str:
    reason = bad_text(value)
    if reason is not None:
        raise InvalidInput(f"{shown(where)}: has {reason}", status=422)
    return value


def _check_tree(data: Any) -> None:
    """Depth and text of every string, keys included, naming where the problem is
    (`comment`, `data.tags.0.name`); iterative, so depth costs no stack."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, (dict, list)) and depth > MAX_DEPTH:
            raise InvalidInput(f"body is nested deeper than {MAX_DEPTH} levels", status=400)
        if isinstance(node, dict):
            for key, value in node.items():
                check_text(key, f"a key in {where or 'the body'}")
                stack.append((value, depth + 1, f"{where}.{key}" if where else key))
        elif isinstance(node, list):
            stack.extend(
                (item, depth + 1, f"{where}.{i}" if where else str(i)) for i, item in enumerate(node)
            )
        elif isinstance(node, str):
            check_text(node, where or "body")


def load_json(
    body: bytes | str,
    *,
    strict: bool = True,
    pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The decoded JSON value of `body`, or InvalidInput (400/422) naming the class of problem.

    `strict=False` lets raw control characters inside strings through the decoder (Zendesk's
    trigger bodies carry agents' text unescaped); they are still refused by the text rule.
    """
    if isinstance(body, bytes):
        if body.startswith(b"\xef\xbb\xbf"):
            raise InvalidInput("body starts with a byte-order mark", status=400)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("body is not UTF-8", status=400) from None
    else:
        text = body
    try:
        data = json.loads(
            text,
            strict=strict,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=pairs_hook,
        )
    except InvalidInput:
        raise
    except RecursionError:
        raise InvalidInput(f"body is nested deeper than {MAX_DEPTH} levels", status=400) from None
    except json.JSONDecodeError:
        # Other ValueErrors can only come from `pairs_hook` (the number parsers above never
        # fail on what the decoder hands them): the caller's to handle.
        raise NotJson("body is not valid JSON", status=400) from None
    _check_tree(data)
    return data


def load_json_object(body: bytes | str, *, strict: bool = True) -> dict[str, Any]:
    data = load_json(body, strict=strict)
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object", status=400)
    return data
