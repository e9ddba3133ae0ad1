"""A customer conversation as an agent pastes or loads it: JSONL of `{"role", "text"}`, or
plain text with one `Role: text` per line (lines without a role continue the message)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from base.language.general import phrasings

CUSTOMER_ROLES = phrasings().words["customer_roles"]
AGENT_ROLES = phrasings().words["agent_roles"]
ROLE_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,20}?)\s*:\s*(.*)$")


class Message(BaseModel):
    role: Literal["customer", "agent"]
    text: str = Field(min_length=1)


class ConversationFormatError(ValueError):
    pass


def _role(raw: str, where: str) -> Literal["customer", "agent"]:
    name = raw.strip().casefold()
    if name in CUSTOMER_ROLES:
        return "customer"
    if name in AGENT_ROLES:
        return "agent"
    raise ConversationFormatError(f"{where}: unknown role {raw!r} (use customer or agent)")


def parse_jsonl(text: str) -> list[Message]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConversationFormatError(f"line {n}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not str(row.get("text", "")).strip():
            raise ConversationFormatError(f'line {n}: expected {{"role": ..., "text": ...}}')
        out.append(Message(role=_role(str(row.get("role", "")), f"line {n}"), text=row["text"]))
    return out


def parse_plain(text: str) -> list[Message]:
    out: list[Message] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = ROLE_LINE.match(line)
        known = m and m.group(1).strip().casefold() in CUSTOMER_ROLES | AGENT_ROLES
        if known:
            out.append(Message(role=_role(m.group(1), f"line {n}"), text=m.group(2) or "…"))
        elif out:
            out[-1] = out[-1].model_copy(update={"text": f"{out[-1].text} {line.strip()}"})
        else:  # no roles at all: the whole paste is the customer's message
            out.append(Message(role="customer", text=line.strip()))
    return out


def parse_conversation(text: str) -> list[Message]:
    """JSONL when the first non-blank line is a JSON object, else plain text."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        raise ConversationFormatError("the conversation is empty")
    messages = parse_jsonl(text) if first.startswith("{") else parse_plain(text)
    if not any(m.role == "customer" for m in messages):
        raise ConversationFormatError("the conversation has no customer message")
    return messages


def load_conversation(path: Path) -> list[Message]:
    path = Path(path)
    if not path.is_file():
        raise ConversationFormatError(f"conversation file not found: {path}")
    return parse_conversation(path.read_text(encoding="utf-8"))
