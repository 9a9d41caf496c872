"""What the console's page may send, checked before anything reaches Breather: JSON bodies
as pydantic models (a clear 4xx otherwise), clicks against the buttons actually shown, and
modal answers turned into Slack's `view.state.values` shape."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from bot.errors import InvalidInput
from handlers.boundary import load_json_object
from handlers.limits import read_body
from handlers.sandbox.blockkit_html import input_block_id, menu_options
from storage.models import SandboxMessage

M = TypeVar("M", bound=BaseModel)


class ViewerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    viewer: str = Field(alias="as", min_length=1, max_length=320)
    page: str = Field("", max_length=64)  # which browser page sent it (a modal shows only there)


class ClickRequest(ViewerRequest):
    ts: str = Field(min_length=1, max_length=32)
    action_id: str = Field(min_length=1, max_length=255)
    value: str = Field("", max_length=2000)
    block_id: str = Field("", max_length=255)


class FormRequest(ViewerRequest):
    trigger: str = Field(min_length=1, max_length=100)


class SubmitRequest(FormRequest):
    values: dict[str, str] = Field(default_factory=dict, max_length=100)


class CommandRequest(ViewerRequest):
    text: str = Field(min_length=1, max_length=4000)


class ControlRequest(ViewerRequest):
    control: str = Field(min_length=1, max_length=64)
    agent: str | None = Field(None, max_length=64)


async def parse_json(request: Request, model: type[M]) -> M:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        # Also keeps other web pages from posting here: a cross-site JSON post needs CORS.
        raise InvalidInput("send JSON (Content-Type: application/json)", status=415)
    data = load_json_object(await read_body(request))
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidInput(f"{where}: {first['msg']}") from None


def buttons_shown(blocks: Any) -> list[tuple[str, str, str]]:
    """(block_id, action_id, value) of every button, to check a click against what was shown."""
    found = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append(
                    (
                        str(block.get("block_id", "")),
                        str(element.get("action_id")),
                        str(element.get("value", "")),
                    )
                )
    return found


def blocks_of(row: SandboxMessage) -> Any:
    return (
        row.payload.get("view", {}).get("blocks")
        if row.kind in ("home", "modal")
        else row.payload.get("blocks")
    )


def submission_state(
    view: dict[str, Any], submitted: dict[str, str], *, people: Collection[str] = ()
) -> dict[str, dict[str, dict[str, Any]]]:
    """The modal's answers in Slack's `view.state.values` shape; refuses what Slack never sends.

    Radio buttons and menus answer `selected_option` (the option as the view has it), a person
    picker `selected_user` (one of `people`, the workspace's user ids), a text input `value`;
    an unanswered optional field is there with null, as in Slack's view_submission.
    """
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for index, block in enumerate(view.get("blocks") or []):
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        block_id = input_block_id(block, index)
        element = block.get("element") or {}
        kind = element.get("type")
        action_id = str(element.get("action_id") or block_id)
        given = submitted.get(block_id, "")
        if not given and not block.get("optional"):
            raise InvalidInput(f"values.{block_id}: this field is required")
        if kind in ("radio_buttons", "static_select"):
            chosen = next((o for o in menu_options(element) if o.get("value") == given), None)
            if given and chosen is None:
                raise InvalidInput(f"values.{block_id}: not one of the choices")
            state[block_id] = {action_id: {"type": kind, "selected_option": chosen}}
        elif kind == "users_select":
            if given and given not in people:
                raise InvalidInput(f"values.{block_id}: nobody in this workspace has that id")
            state[block_id] = {action_id: {"type": kind, "selected_user": given or None}}
        elif kind == "plain_text_input":
            limit = element.get("max_length")
            if limit and len(given) > int(limit):
                raise InvalidInput(f"values.{block_id}: longer than {limit} characters")
            state[block_id] = {action_id: {"type": kind, "value": given or None}}
        elif given:
            raise InvalidInput(f"values.{block_id}: the console cannot answer a {kind} field")
    unknown = set(submitted) - set(state)
    if unknown:
        raise InvalidInput(f"values.{sorted(unknown)[0]}: no such field in this form")
    return state
