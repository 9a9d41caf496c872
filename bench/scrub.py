"""How long scrubbing a customer comment takes, since it runs before the webhook is answered.

The floor is one pass of a single compiled regular expression over the same text (the least
any scrubber must do); Breather's scrubber is reported as a ratio of it, and as milliseconds
per comment of the largest size the webhooks accept (5,000 characters).

    python bench/scrub.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time

from bot.compliments.scrubbing import scrub

SENTENCES = (
    "Ana was so patient with me, thank you! ",
    "Call me back on 0722 123 456 or write to jo.bloggs@example.com. ",
    "Mulțumesc pentru factura 20240517, Ștefan Ionescu. ",
    "شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است. ",
    "My card 4111 1111 1111 1111 works again, order #48213. ",
)
FLOOR = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def comment(size: int = 5000) -> str:
    text = ""
    while len(text) < size:
        text += SENTENCES[len(text) % len(SENTENCES)]
    return text[:size]


def timed(work: object, rounds: int) -> float:
    assert callable(work)
    started = time.perf_counter()
    for _ in range(rounds):
        work()
    return (time.perf_counter() - started) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    text = comment()
    floor = timed(lambda: FLOOR.sub("[email]", text), args.rounds)
    ours = timed(lambda: scrub(text, customer_name="Stefan Ionescu", keep=("Ana",)), args.rounds)
    print(
        f"scrub, 5,000-character comment: {ours * 1000:.2f} ms; floor {floor * 1000:.3f} ms", file=sys.stderr
    )
    report = {
        "scrub_ms": round(ours * 1000, 3),
        "floor_ms": round(floor * 1000, 4),
        "ratio": round(ours / floor, 1),
        "chars": len(text),
        "rounds": args.rounds,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
