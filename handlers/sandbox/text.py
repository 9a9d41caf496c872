"""Block Kit as plain terminal text, for the demo's running commentary."""

from __future__ import annotations

from typing import Any


def block_lines(blocks: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            lines.append(str(block.get("text", {}).get("text", "")))
        elif kind == "context":
            lines.extend(f"  ({element.get('text', '')})" for element in block.get("elements", []))
        elif kind == "actions":
            labels = [f"[{element.get('text', {}).get('text', '')}]" for element in block.get("elements", [])]
            lines.append(" ".join(labels))
        elif kind == "divider":
            lines.append("-" * 20)
    return lines


def find_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]
