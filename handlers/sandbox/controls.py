"""The console's control panel: every button it shows, in one list.

Each action drives a production entry point, never demo-only logic, so that what the console
shows is what production does:

- "hard call" / "easy call" / "customer compliment": a signed event to /webhooks/calls, as a
  phone system or a CSAT survey would send it;
- "survey round": the service method `breather survey send` calls (once per team and period);
- "digest": what the Monday-morning job does, for the chosen agent's team.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.container import Services
from bot.i18n import Catalogue
from bot.roster import RosterAgent
from bot.simulation import synthetic_call
from handlers.sandbox.call_simulator import CallSimulator

_rng = random.Random()


@dataclass(frozen=True)
class ControlContext:
    """What a control action may use."""

    cat: Catalogue
    agent: RosterAgent  # the panel's "Calls for" choice
    simulator: CallSimulator | None
    post_call_event: Callable[[dict[str, Any]], Awaitable[int]]  # signed POST /webhooks/calls -> status
    services: Services


@dataclass(frozen=True)
class ControlAction:
    id: str  # also the catalogue section console.control.<id>
    run: Callable[[ControlContext], Awaitable[str]]  # returns the status line the panel announces
    enabled: Callable[[CallSimulator | None], bool] = lambda simulator: True


async def _call(context: ControlContext, *, hard: bool) -> str:
    status = await context.post_call_event(synthetic_call(context.agent.email, _rng, hard=hard))
    if not 200 <= status < 300:
        return context.cat.t("console.control.refused", status=status)
    key = "hard_call" if hard else "easy_call"
    return context.cat.t(f"console.control.{key}.done", name=context.agent.name)


async def hard_call(context: ControlContext) -> str:
    return await _call(context, hard=True)


async def easy_call(context: ControlContext) -> str:
    return await _call(context, hard=False)


# The demo customer's words, in the catalogue (console.control.compliment.sample.<key>).
COMPLIMENT_SAMPLES = ("patient", "clear", "called_back")


def compliment_event(cat: Catalogue, email: str, name: str, rng: random.Random) -> dict[str, Any]:
    """A good rating with a kind comment for an agent, as a CSAT survey would send it."""
    return {
        "type": "feedback",
        "event_id": f"demo-feedback-{uuid.uuid4().hex}",
        "agent_email": email,
        "rating": "good",
        "comment": cat.t(
            f"console.control.compliment.sample.{rng.choice(COMPLIMENT_SAMPLES)}", name=name.split()[0]
        ),
        "source": "survey",
    }


async def compliment(context: ControlContext) -> str:
    event = compliment_event(context.cat, context.agent.email, context.agent.name, _rng)
    status = await context.post_call_event(event)
    if not 200 <= status < 300:
        return context.cat.t("console.control.refused", status=status)
    return context.cat.t("console.control.compliment.done", name=context.agent.name)


async def survey_round(context: ControlContext) -> str:
    team = context.agent.team
    if team.pulse is None:
        return context.cat.t("console.control.survey_round.no_pulse", team=team.name)
    outcome = await asyncio.to_thread(context.services.survey_actions.start_round, team.id)
    key = "done" if outcome.created else "already"
    return context.cat.t(f"console.control.survey_round.{key}", team=team.name)


async def digest(context: ControlContext) -> str:
    team = context.agent.team
    if not team.managers:
        return context.cat.t("console.control.digest.no_lead", team=team.name)
    await asyncio.to_thread(context.services.digest_desk.weekly, team.id)
    return context.cat.t("console.control.digest.done", team=team.name)


async def start_simulator(context: ControlContext) -> str:
    if context.simulator is None:
        return context.cat.t("console.control.simulator_unavailable")
    if not context.simulator.start():
        return context.cat.t("console.control.simulator_start.already")
    return context.cat.t("console.control.simulator_start.done", rate=f"{context.simulator.rate:g}")


async def stop_simulator(context: ControlContext) -> str:
    if context.simulator is None:
        return context.cat.t("console.control.simulator_unavailable")
    if not context.simulator.stop():
        return context.cat.t("console.control.simulator_stop.already")
    return context.cat.t("console.control.simulator_stop.done")


CONTROL_ACTIONS: tuple[ControlAction, ...] = (
    ControlAction("hard_call", hard_call),
    ControlAction("easy_call", easy_call),
    ControlAction("compliment", compliment),
    ControlAction("survey_round", survey_round),
    ControlAction("digest", digest),
    ControlAction("simulator_start", start_simulator, lambda sim: sim is not None and not sim.running),
    ControlAction("simulator_stop", stop_simulator, lambda sim: sim is not None and sim.running),
)


def find_control(control_id: str) -> ControlAction | None:
    return next((action for action in CONTROL_ACTIONS if action.id == control_id), None)
