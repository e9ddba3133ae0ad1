"""Gradio's queue protocol spoken by hand, the way an attacker would: the payload is sent
as written, with no client library cleaning file paths on the way."""

from __future__ import annotations

import json
import urllib.request
import uuid


def fn_index(base: str, api_name: str, headers: dict | None = None) -> int:
    config = json.loads(_get(base + "config", headers))
    for dep in config["dependencies"]:
        if dep.get("api_name") == api_name:
            return dep["id"]
    raise KeyError(api_name)


def call(
    base: str,
    api_name: str,
    data: list,
    headers: dict | None = None,
    event_data: dict | None = None,
) -> list[dict]:
    """Every message the queue sends back for one call, until it completes; `event_data` is
    what a button inside an HTML value sends with its event."""
    session = uuid.uuid4().hex[:10]
    body = json.dumps(
        {
            "data": data,
            "fn_index": fn_index(base, api_name, headers),
            "session_hash": session,
            "event_data": event_data,
            "trigger_id": None,
        }
    ).encode()
    req = urllib.request.Request(
        base + "gradio_api/queue/join",
        data=body,
        headers={"content-type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
    messages = []
    req = urllib.request.Request(
        base + f"gradio_api/queue/data?session_hash={session}", headers=headers or {}
    )
    with urllib.request.urlopen(req, timeout=60) as stream:
        for line in stream:
            line = line.decode().strip()
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            messages.append(msg)
            if msg.get("msg") == "process_completed":
                break
    return messages


def file_paths(messages: list[dict]) -> list[str]:
    """Every file the server says it is serving in these messages (its path or URL)."""
    found: list[str] = []

    def walk(x) -> None:
        if isinstance(x, dict):
            if x.get("meta", {}).get("_type") == "gradio.FileData" or "path" in x and "url" in x:
                found.append(x.get("url") or x.get("path") or "")
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(messages)
    return found


def _get(url: str, headers: dict | None = None) -> bytes:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {}), timeout=30
    ) as r:
        return r.read()
