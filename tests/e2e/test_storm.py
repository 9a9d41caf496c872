"""Recovering fast (issue 20, item 8): after a storm of 429 and 500 answers the backlog goes out
within a few seconds of Slack's recovery, each conversation's messages in order, none lost or
twice. On SQLite and PostgreSQL, against the fake Slack Web API, with a short storm."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import Engine

from bot.clock import utcnow
from bot.delivery import MAX_BACKOFF_S, Outbox, OutboxWorker
from bot.messenger import Message, Text
from bot.metrics import Metrics
from bot.pseudonyms import Keyring
from bot.send_budget import MAX_FAILURE_HOLD_S
from handlers.slack.messenger import SlackMessenger, make_web_client
from storage.db import session_scope
from storage.outbox import depth
from tests.conftest import PSEUDONYM_KEY
from tests.fakes.slack_api import FakeSlack

STORM_S = 2.0
# The longest a message may wait once Slack is back: a hold or a backoff (with its jitter), and
# a little for the worker to notice and send (seconds when the machine is busy).
SLACK = max(MAX_FAILURE_HOLD_S, MAX_BACKOFF_S * 1.2) + 3.0


def test_after_a_storm_the_backlog_resumes_within_seconds_in_order(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    outbox = Outbox(Keyring(PSEUDONYM_KEY.encode()))
    with session_scope(engine) as session:
        for n in range(8):
            text = f"to channel {n}"
            outbox.post_to_channel(
                session, key=f"c{n}", channel=f"C{n:03d}", message=Message(text=text, parts=()), now=utcnow()
            )
        for n in range(3):  # three messages to one person's conversation: they must stay in order
            text = f"third {n}" if n == 2 else f"part {n}"
            outbox.post_to_channel(
                session,
                key=f"seq{n}",
                channel="C0SEQ",
                message=Message(text=text, parts=(Text(text=text),)),
                now=utcnow(),
            )
    fake_slack.storm(STORM_S)
    recovered_at = time.time() + STORM_S
    messenger = SlackMessenger(make_web_client("xoxb-test", fake_slack.url), engine)
    worker = OutboxWorker(
        engine=engine,
        messenger=messenger,
        metrics=Metrics(),
        wake=threading.Event(),
        pace_s=0.05,
        poll_s=0.05,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STORM_S + SLACK + 10
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                if depth(session) == 0:
                    break
            time.sleep(0.05)
    finally:
        stop.set()
        worker.wake.set()
        thread.join(10)
        messenger.close()
    posts = fake_slack.calls("chat.postMessage")
    accepted = [call for call in posts if call.status == 200]
    assert [call for call in posts if call.status != 200], "the storm refused nothing"
    delivered = Counter(call.params["text"] for call in accepted)
    assert len(delivered) == 11 and set(delivered.values()) == {1}  # none lost, none twice
    assert [c.params["text"] for c in accepted if c.params["channel"] == "C0SEQ"] == [
        "part 0",
        "part 1",
        "third 2",
    ]
    last = max(call.at for call in accepted)
    assert last - recovered_at <= SLACK, (
        f"the last message went out {last - recovered_at:.1f} s after Slack recovered"
    )
