"""The console's control panel: every button it shows, in one list.

EXTENSION POINT. When customer compliments, pulse surveys and digests are merged, add one
`ControlAction` each to `CONTROL_ACTIONS` (and its words under `console.control` in en.yml):

- "customer compliment": post a signed `feedback` event for the chosen agent with
  `context.post_call_event`, as Zendesk or a CSAT survey would;
- "survey round": start a round for the chosen agent's team through the same service method
  `breather survey send` calls;
- "digest": send the team digest the way its scheduled job does.

Each action must drive a production entry point (a signed webhook, a service method, a job),
never demo-only logic, so that what the console shows is what production does.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
    # Extension point: "compliment", "survey_round" and "digest" go here (see the module docstring).
    ControlAction("simulator_start", start_simulator, lambda sim: sim is not None and not sim.running),
    ControlAction("simulator_stop", stop_simulator, lambda sim: sim is not None and sim.running),
)


def find_control(control_id: str) -> ControlAction | None:
    return next((action for action in CONTROL_ACTIONS if action.id == control_id), None)
