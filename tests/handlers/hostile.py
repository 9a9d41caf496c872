"""Values of every class of input that broke an adapter, or was read as what it is not, when
the contact-centre adapters were attacked field by field (issue 20): far dates whose offset
overflows, other scripts' digits, booleans and numeric strings where numbers belong, numbers at
the edges of the calendar, text an encoder cannot store, and wrong types. `sweep` puts each
into one field a provider's adapter reads: the adapter must read it or refuse it with a 4xx
naming that field, never fall through to the generic "cannot be read" (or a 5xx)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.errors import InvalidInput

HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    -0.0,
    10**19,
    -(10**19),
    1e300,
    "",
    " ",
    "x" * 1000,
    "\x00",
    "\ud800",  # a lone surrogate
    "\u202e",  # right-to-left override
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999",
    "1970-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\uff19\uff19",  # fullwidth digits
    "1_000",
    "1e5",
    "-1",
    [],
    {},
    [1, "a"],
    {"a": {"b": None}},
]


def put(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the field at the dotted `path` set to `value`."""
    copy: dict[str, Any] = json.loads(json.dumps(body))
    *parents, name = path.split(".")
    target = copy
    for step in parents:
        target = target[step]
    target[name] = value
    return copy


def sweep(parse: Callable[[bytes], object], body: dict[str, Any], path: str) -> list[str]:
    """Every hostile value in the field at `path`: what the adapter did wrong, if anything."""
    wrong = []
    field = path.rsplit(".", 1)[-1].lower()
    for value in HOSTILE:
        raw = json.dumps(put(body, path, value)).encode()
        try:
            parse(raw)
        except InvalidInput as error:
            if field not in str(error).lower():
                wrong.append(f"{path}={value!r:.40}: {error} (does not name the field)")
        except Exception as error:  # exactly what this looks for: anything but InvalidInput
            wrong.append(f"{path}={value!r:.40}: {type(error).__name__}: {error}"[:200])
    return wrong
