"""Block Kit as HTML for the sandbox console: pure functions of the blocks, escaping everything.

Covers what Breather sends: section, header, context, divider, actions with buttons, image, and
(in modals) input blocks with radio buttons, a menu (`static_select`), a person picker
(`users_select`, offering the workspace's people the console knows) or a plain text input,
plus Slack's mrkdwn basics and the emoji codes Breather's catalogue uses. An unknown block or
element is shown as a visible placeholder, so a new kind is noticed in the demo instead of
silently vanishing. The console's own words (the placeholder, "(optional)", a default close
button) come from the message catalogue (`console.blocks.*`).

Every piece of text and every attribute goes through `html.escape`; links and images keep only
schemes that cannot run script. The browser adds a Content-Security-Policy on top.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import Catalogue
from bot.i18n.bidi import dominant_direction

Names = Mapping[str, str]  # Slack user id -> display name, for <@U…> mentions
Block = dict[str, Any]
SELECTS = ("static_select", "users_select")


@dataclass(frozen=True)
class Render:
    """What rendering needs besides the blocks."""

    cat: Catalogue  # the console's own words
    names: Names = field(default_factory=dict)
    people: Sequence[tuple[str, str]] = ()  # (user id, name) a person picker offers, in order


_LINK_SCHEMES = ("http://", "https://", "mailto:")
_IMAGE_SOURCES = ("http://", "https://", "/", "data:image/png", "data:image/jpeg", "data:image/gif")
# Slack escapes only these three in message text; a raw "<" starts a link or a mention.
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
# Markers count only at word edges, as in Slack: "snake_case_name" and "2*3*4" stay as typed.
_INLINE = re.compile(
    r"```(?P<pre>.+?)```"
    r"|`(?P<code>[^`\n]+)`"
    r"|<(?P<ref>[^<>\n]+)>"
    r"|(?<![\w*])\*(?P<bold>\S(?:[^*\n]*\S)?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>\S(?:[^_\n]*\S)?)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>\S(?:[^~\n]*\S)?)~(?![\w~])",
    re.DOTALL,
)
# The emoji codes Breather's messages use (bot/i18n/*.yml), as Slack shows them; a test keeps
# this in step with the catalogue. Other codes stay as typed, as Slack does with unknown ones.
EMOJI = {"tada": "\U0001f389", "raised_hands": "\U0001f64c"}
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _unslack(text: str) -> str:
    for entity, char in _SLACK_ENTITIES:
        text = text.replace(entity, char)
    return text


def emoji(text: str) -> str:
    return _EMOJI_CODE.sub(lambda match: EMOJI.get(match.group(1), match.group()), text)


def emoji_images(escaped: str) -> str:
    """The catalogue's emoji as the pictures the console ships (static/emoji/): right on a machine
    without a colour emoji font too. The emoji itself stays as the alt text."""
    for name, char in EMOJI.items():
        if char in escaped:
            image = f'<img class="bk-emoji" src="/sandbox/static/emoji/{name}.svg" alt="{char}">'
            escaped = escaped.replace(char, image)
    return escaped


def _plain_segment(text: str) -> str:
    return emoji_images(esc(emoji(_unslack(text)))).replace("\n", "<br>")


def _reference(ref: str, names: Names) -> str:
    target, _, label = ref.partition("|")
    if target.startswith("@"):
        name = names.get(target[1:]) or label or target[1:]
        return f'<span class="mention">@{esc(name)}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{esc(label or target[1:])}</span>'
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        shown = label or (f"@{special}" if special in ("here", "channel", "everyone") else special)
        return f'<span class="mention">{esc(_unslack(shown))}</span>'
    url = _unslack(target)
    text = esc(_unslack(label or target))
    if not url.lower().startswith(_LINK_SCHEMES):
        return text
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{text}</a>'


_QUOTE = re.compile(r"^(?:>|&gt;) ?")  # a quoted line, as typed or as Slack escapes it


def mrkdwn_html(text: str, names: Names) -> str:
    """Slack's mrkdwn: lines starting with ">" as a quote, and within lines what `_inline_html` does."""
    lines = text.split("\n")
    if not any(_QUOTE.match(line) for line in lines):
        return _inline_html(text, names)
    out: list[str] = []
    group: list[str] = []
    quoted = False
    for line in [*lines, None]:
        is_quote = line is not None and bool(_QUOTE.match(line))
        if line is None or (group and is_quote != quoted):
            inner = _inline_html("\n".join(group), names)
            out.append(f'<blockquote class="bk-quote">{inner}</blockquote>' if quoted else inner)
            group = []
        if line is not None:
            quoted = is_quote
            group.append(_QUOTE.sub("", line, count=1) if is_quote else line)
    return "".join(out)


def _inline_html(text: str, names: Names) -> str:
    """*bold* _italic_ ~strike~ `code` ```pre```, <@U…> mentions, <url|label> links, line breaks."""
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(_plain_segment(text[position : match.start()]))
        position = match.end()
        kind = match.lastgroup
        inner = match.group(kind or "")
        if kind == "pre":
            out.append(f"<pre>{esc(_unslack(inner.strip(chr(10))))}</pre>")
        elif kind == "code":
            out.append(f"<code>{esc(_unslack(inner))}</code>")
        elif kind == "ref":
            out.append(_reference(inner, names))
        else:
            tag = {"bold": "strong", "italic": "em", "strike": "s"}[kind or "bold"]
            out.append(f"<{tag}>{_inline_html(inner, names)}</{tag}>")
    out.append(_plain_segment(text[position:]))
    return "".join(out)


def text_html(obj: Any, names: Names) -> str:
    """A Block Kit text object: mrkdwn is formatted, plain_text only escaped."""
    if isinstance(obj, str):
        return esc(obj)
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(text, names)
    if not obj.get("emoji", True):
        return esc(text).replace("\n", "<br>")
    return emoji_images(esc(emoji(text))).replace("\n", "<br>")


def _plain(obj: Any) -> str:
    """The bare string of a text object, for attributes such as alt text."""
    return str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")


def _unsupported(kind: object, render: Render) -> str:
    return f'<p class="bk-unsupported">{esc(render.cat.t("console.blocks.not_shown", kind=kind))}</p>'


def _image(url: object, alt: object, css: str) -> str:
    source = str(url or "")
    if not source.startswith(_IMAGE_SOURCES):
        return f'<span class="{css} bk-image-missing">{esc(alt)}</span>'
    return f'<img class="{css}" src="{esc(source)}" alt="{esc(alt)}" loading="lazy">'


def button_html(element: Block, block_id: str) -> str:
    label = text_html(element.get("text"), {})
    style = element.get("style")
    css = "bk-button" + (f" bk-button-{style}" if style in ("primary", "danger") else "")
    url = str(element.get("url") or "")
    if url:
        if not url.lower().startswith(_LINK_SCHEMES):
            return f'<span class="{css}">{label}</span>'
        return f'<a class="{css}" href="{esc(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'
    return (
        f'<button type="button" class="{css}" data-action-id="{esc(element.get("action_id", ""))}" '
        f'data-value="{esc(element.get("value", ""))}" data-block-id="{esc(block_id)}">{label}</button>'
    )


def _element(element: Any, block_id: str, render: Render) -> str:
    if not isinstance(element, dict):
        return _unsupported("element", render)
    kind = element.get("type")
    if kind == "button":
        return button_html(element, block_id)
    if kind == "image":
        return _image(element.get("image_url"), element.get("alt_text", ""), "bk-inline-image")
    if kind in ("mrkdwn", "plain_text"):
        return f"<span>{text_html(element, render.names)}</span>"
    return _unsupported(kind, render)


def _section(block: Block, render: Render) -> str:
    names = render.names
    inner = []
    if block.get("text"):
        inner.append(f'<div class="bk-text">{text_html(block["text"], names)}</div>')
    fields = block.get("fields") or []
    if fields:
        cells = "".join(f"<div>{text_html(cell, names)}</div>" for cell in fields)
        inner.append(f'<div class="bk-fields">{cells}</div>')
    if isinstance(block.get("accessory"), dict):
        accessory = _element(block["accessory"], str(block.get("block_id", "")), render)
        inner.append(f'<div class="bk-accessory">{accessory}</div>')
    return f'<div class="bk-section">{"".join(inner)}</div>'


def _choice_input(block_id: str, label: str, element: Block, described_by: str) -> str:
    initial = (element.get("initial_option") or {}).get("value")
    options = []
    for option in element.get("options") or []:
        value = option.get("value", "")
        checked = " checked" if value == initial else ""
        description = option.get("description")
        detail = f'<span class="bk-option-detail">{text_html(description, {})}</span>' if description else ""
        options.append(
            f'<label class="bk-radio"><input type="radio" name="{esc(block_id)}" value="{esc(value)}"'
            f"{checked}><span>{text_html(option.get('text'), {})}{detail}</span></label>"
        )
    return (
        f'<fieldset class="bk-choices" aria-describedby="{described_by}"><legend>{label}</legend>'
        f"{''.join(options)}</fieldset>"
    )


def _text_input(block_id: str, label: str, element: Block, described_by: str, optional: bool) -> str:
    field_id = f"bk-field-{block_id}"
    attributes = f'id="{esc(field_id)}" name="{esc(block_id)}" aria-describedby="{described_by}"'
    if element.get("max_length"):
        attributes += f' maxlength="{esc(element["max_length"])}"'
    if element.get("placeholder"):
        attributes += f' placeholder="{esc(_plain(element["placeholder"]))}"'
    if not optional:
        attributes += " required"
    initial = esc(element.get("initial_value", ""))
    control = (
        f'<textarea {attributes} rows="4">{initial}</textarea>'
        if element.get("multiline")
        else f'<input type="text" {attributes} value="{initial}">'
    )
    return f'<label class="bk-label" for="{esc(field_id)}">{label}</label>{control}'


def _dicts(items: Any) -> list[Block]:
    return [item for item in items or [] if isinstance(item, dict)]


def menu_options(element: Block) -> list[Block]:
    """A static menu's options, also those inside option groups, in the order shown."""
    options = _dicts(element.get("options"))
    for group in _dicts(element.get("option_groups")):
        options.extend(_dicts(group.get("options")))
    return options


def _option_tags(options: Sequence[Block], selected: object) -> str:
    tags = []
    for option in options:
        value = str(option.get("value", ""))
        chosen = " selected" if value == selected else ""
        tags.append(f'<option value="{esc(value)}"{chosen}>{esc(emoji(_plain(option.get("text"))))}</option>')
    return "".join(tags)


def _select_input(
    block_id: str, label: str, element: Block, described_by: str, optional: bool, render: Render
) -> str:
    """A menu or a person picker as a native <select>: labelled, keyboard-friendly, and
    refusing an empty required answer in the browser, as Slack does."""
    if element.get("type") == "users_select":
        people = [{"value": user_id, "text": name} for user_id, name in render.people]
        choices = _option_tags(people, element.get("initial_user"))
    else:
        selected = (element.get("initial_option") or {}).get("value")
        choices = _option_tags(_dicts(element.get("options")), selected)
        for group in _dicts(element.get("option_groups")):
            inner = _option_tags(_dicts(group.get("options")), selected)
            choices += f'<optgroup label="{esc(_plain(group.get("label")))}">{inner}</optgroup>'
    prompt = _plain(element.get("placeholder")) or render.cat.t("console.blocks.choose")
    field_id = esc(f"bk-field-{block_id}")
    required = "" if optional else " required"
    return (
        f'<label class="bk-label" for="{field_id}">{label}</label>'
        f'<select id="{field_id}" name="{esc(block_id)}" aria-describedby="{described_by}"{required}>'
        f'<option value="">{esc(prompt)}</option>{choices}</select>'
    )


def input_block_id(block: Block, index: int) -> str:
    """The block id a submission is keyed by; Slack makes one up when a block has none."""
    return str(block.get("block_id") or f"block-{index}")


def _input(block: Block, index: int, render: Render) -> str:
    block_id = input_block_id(block, index)
    optional = bool(block.get("optional"))
    label = text_html(block.get("label"), {})
    if optional:
        label += f' <span class="bk-optional">{esc(render.cat.t("console.blocks.optional"))}</span>'
    hint_id, error_id = esc(f"bk-hint-{block_id}"), esc(f"bk-error-{block_id}")
    described_by = f"{hint_id} {error_id}" if block.get("hint") else error_id
    element = block.get("element") or {}
    kind = element.get("type")
    if kind == "radio_buttons":
        control = _choice_input(block_id, label, element, described_by)
        if not optional:
            # One `required` radio makes the whole group required, as Slack insists before sending.
            control = control.replace('type="radio"', 'type="radio" required', 1)
    elif kind in SELECTS:
        control = _select_input(block_id, label, element, described_by, optional, render)
    elif kind == "plain_text_input":
        control = _text_input(block_id, label, element, described_by, optional)
    else:
        return _unsupported(kind, render)
    hint = (
        f'<p class="bk-hint" id="{hint_id}">{text_html(block["hint"], {})}</p>' if block.get("hint") else ""
    )
    error = f'<p class="bk-error" id="{error_id}" hidden></p>'
    return f'<div class="bk-input" data-block-id="{esc(block_id)}">{control}{hint}{error}</div>'


def block_html(block: Any, render: Render, index: int = 0, *, in_form: bool = False) -> str:
    names = render.names
    if not isinstance(block, dict):
        return _unsupported("block", render)
    kind = block.get("type")
    if kind == "section":
        return _section(block, render)
    if kind == "header":
        return f'<h3 class="bk-header">{text_html(block.get("text"), names)}</h3>'
    if kind == "divider":
        return '<hr class="bk-divider">'
    if kind == "context":
        parts = "".join(_element(element, "", render) for element in block.get("elements") or [])
        return f'<div class="bk-context">{parts}</div>'
    if kind == "actions":
        block_id = str(block.get("block_id", ""))
        buttons = "".join(_element(element, block_id, render) for element in block.get("elements") or [])
        return f'<div class="bk-actions" role="group">{buttons}</div>'
    if kind == "image":
        title = block.get("title")
        caption = f"<figcaption>{text_html(title, names)}</figcaption>" if title else ""
        picture = _image(block.get("image_url"), block.get("alt_text", ""), "bk-image-img")
        return f'<figure class="bk-image">{picture}{caption}</figure>'
    if kind == "input" and in_form:
        return _input(block, index, render)
    return _unsupported(kind, render)


def blocks_html(blocks: Any, render: Render, *, in_form: bool = False) -> str:
    if not isinstance(blocks, list):
        return ""
    return "".join(block_html(block, render, index, in_form=in_form) for index, block in enumerate(blocks))


def modal_html(view: Block, render: Render) -> str:
    """A modal as a form; the console's script submits it as a view_submission."""
    submit = view.get("submit")
    close = _plain(view.get("close")) or render.cat.t("console.blocks.close")
    submit_button = (
        f'<button type="submit" class="bk-button bk-button-primary">{esc(_plain(submit))}</button>'
        if submit
        else ""
    )
    direction = dominant_direction(json.dumps(view, ensure_ascii=False))
    return (
        f'<form class="modal-form" dir="{direction}">'
        f'<header class="modal-header"><h2 id="modal-title">{esc(_plain(view.get("title")))}</h2></header>'
        f'<div class="modal-body">{blocks_html(view.get("blocks"), render, in_form=True)}</div>'
        f'<p class="modal-problem" role="alert" hidden></p>'
        f'<footer class="modal-footer"><button type="button" class="bk-button" data-modal-close>'
        f"{esc(close)}</button>{submit_button}</footer></form>"
    )
