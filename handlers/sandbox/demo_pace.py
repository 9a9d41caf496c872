"""What the demo's simulated world does besides calls, and at what pace, so that the person at the
console sees every feature within a few minutes: customers' compliments among the calls, and
team mates' kudos.

Both favour the agent someone is viewing the console as (otherwise anyone): a compliment or a
kudos for a simulated agent nobody watches would show only in the terminal. Everything goes
through the production entry points: compliments as signed feedback events to /webhooks/calls,
kudos as signed `/kudos` slash commands to /slack/events from a simulated team mate.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from bot.i18n import Catalogue
from bot.simulation import synthetic_call
from handlers.sandbox.controls import compliment_event
from handlers.sandbox.interactions import signed_headers, slash_command_body

log = logging.getLogger(__name__)

COMPLIMENT_EVERY = 50  # events: about every 100 s at the demo's 0.5 calls a second
FIRST_COMPLIMENT = 20  # the first after about 40 s
# Kudos by the same clock as the calls: the first after about 30 calls' time, then every 75
# (a minute, then every two and a half, at the demo's 0.5 calls a second).
KUDOS_FIRST_CALLS = 30
KUDOS_EVERY_CALLS = 75
KUDOS_SAMPLES = ("covering", "tricky_call", "patience")  # demo.kudos.<key> in the catalogue


def demo_events(
    people: Sequence[tuple[str, str]],  # (e-mail, name) of every agent
    *,
    cat: Catalogue,
    count: int | None,
    first_hard: bool,
    may_take_calls: Callable[[str], bool],
    favourite: Callable[[], str | None],
    seed: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Calls for agents who can take them (not on a protected break), and now and then a customer's
    compliment, for the agent being watched when there is one. `count` events, or forever."""
    rng = random.Random(seed)
    names = dict(people)
    sent = 0
    while count is None or sent < count:
        sent += 1
        if sent % COMPLIMENT_EVERY == FIRST_COMPLIMENT:
            email = favourite() or rng.choice(list(names))
            yield compliment_event(cat, email, names.get(email, email), rng)
            continue
        # On a break in the phone system, no calls reach an agent: that is what the break is for.
        free = [email for email in names if may_take_calls(email)]
        if not free:
            continue
        yield synthetic_call(rng.choice(free), rng, hard=True if first_hard and sent == 1 else None)


class Colleagues:
    """Simulated team mates who thank each other with /kudos now and then, while the simulator runs."""

    def __init__(
        self,
        *,
        people: Sequence[tuple[str, str, str]],  # (e-mail, name, Slack user id)
        cat: Catalogue,
        send: Callable[[str], None],  # posts a signed slash-command body to /slack/events
        running: Callable[[], bool],
        favourite: Callable[[], str | None],
        watched: Callable[[str], bool],
        stop: threading.Event,
        rate: float = 0.5,  # the simulator's calls per second, which sets the pace
        seed: int | None = None,
    ) -> None:
        self.people = list(people)
        self.first_s = KUDOS_FIRST_CALLS / rate if rate > 0 else float("inf")
        self.every_s = KUDOS_EVERY_CALLS / rate if rate > 0 else float("inf")
        self.cat = cat
        self.send = send
        self.running = running
        self.favourite = favourite
        self.watched = watched
        self.stop = stop
        self.rng = random.Random(seed)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="breather-demo-colleagues", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        wait = self.first_s
        while not self.stop.wait(wait):
            wait = self.every_s
            if self.running():
                self.thank_someone()

    def thank_someone(self) -> bool:
        """One kudos from a simulated team mate (never from someone a person is viewing as)."""
        wanted = self.favourite()
        recipients = [p for p in self.people if p[0] == wanted] or self.people
        to = self.rng.choice(recipients)
        senders = [p for p in self.people if p[0] != to[0] and not self.watched(p[0])]
        if not senders:
            return False
        sender = self.rng.choice(senders)
        words = self.cat.t(f"demo.kudos.{self.rng.choice(KUDOS_SAMPLES)}")
        self.send(slash_command_body(user_id=sender[2], command="/kudos", text=f"<@{to[2]}> {words}"))
        return True


def slack_sender(base_url: str, signing_secret: str, stop: threading.Event) -> Callable[[str], None]:
    """Posts a form-encoded Slack payload to the demo's own /slack/events, signed as Slack would."""

    def send(body: str) -> None:
        headers = signed_headers(signing_secret, body, "application/x-www-form-urlencoded")
        try:
            httpx.post(f"{base_url}/slack/events", content=body, timeout=10, headers=headers)
        except httpx.HTTPError as error:
            if not stop.is_set():  # the demo stopping mid-post: nothing to report
                log.warning("a simulated kudos did not reach the demo server: %s", error)

    return send
