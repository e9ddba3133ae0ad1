"""Conversations that outlive the process: each conversation's dialogue state (constraints,
shown items, cart) and its chat as drawn, by conversation id. SQLite in the index folder by
default; PostgreSQL (any SQLAlchemy URL) when several workers serve one shop, so a restart
or another worker continues a conversation where it was. The browser keeps only the id.

Nothing that identifies a shopper is stored: the state is built from the admitted message
(contact details already removed), and the chat's shopper lines are redacted here."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from base.privacy import redact
from base.stores import StoreUnavailableError, create_tables, open_engine

from .records import DialogueState


class ConversationStoreUnavailableError(StoreUnavailableError):
    pass


class ConversationStore:
    def __init__(self, url: str, max_messages: int = 200, max_chars: int = 4_000):
        """`max_messages`: the chat kept per conversation (its latest); `max_chars`: the
        longest message kept: bounds applied before anything is stored."""
        self.max_messages, self.max_chars = max_messages, max_chars
        from sqlalchemy import Column, DateTime, MetaData, String, Table, Text

        self.engine = open_engine(url, "conversation store", ConversationStoreUnavailableError)
        meta = MetaData()
        self.table = Table(
            "conversations",
            meta,
            Column("id", String(64), primary_key=True),
            Column("state", Text, nullable=False),
            Column("messages", Text, nullable=False, default="[]"),
            Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
        )
        self._lock = threading.Lock()
        self._turn_locks: dict[str, threading.Lock] = {}
        create_tables(
            meta,
            self.engine,
            f"conversation store {self.where}",
            ConversationStoreUnavailableError,
        )

    def lock(self, cid: str) -> threading.Lock:
        """One turn at a time per conversation; conversations never share state."""
        with self._lock:
            return self._turn_locks.setdefault(cid, threading.Lock())

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def _row(self, cid: str):
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return conn.execute(select(self.table).where(self.table.c.id == cid)).first()

    def load(self, cid: str) -> DialogueState:
        """The conversation's state; a new one for an id never seen."""
        row = self._row(cid)
        return DialogueState.model_validate_json(row.state) if row else DialogueState()

    def exists(self, cid: str) -> bool:
        return self._row(cid) is not None

    def messages(self, cid: str) -> list[dict]:
        row = self._row(cid)
        return json.loads(row.messages) if row else []

    def save(
        self, cid: str, state: DialogueState | None = None, messages: list[dict] | None = None
    ) -> None:
        """Write the state and/or the chat (what is not given is kept), in one transaction."""
        from sqlalchemy import insert, select, update

        values: dict = {"updated_at": datetime.now(UTC)}
        if state is not None:
            values["state"] = state.model_dump_json()
        if messages is not None:
            kept = messages[-self.max_messages :]
            values["messages"] = json.dumps([_bounded(_redacted(m), self.max_chars) for m in kept])
        t = self.table
        with self._lock, self.engine.begin() as conn:
            found = conn.execute(select(t.c.id).where(t.c.id == cid)).first()
            if found:
                conn.execute(update(t).where(t.c.id == cid).values(**values))
            else:
                values.setdefault("state", DialogueState().model_dump_json())
                values.setdefault("messages", "[]")
                conn.execute(insert(t).values(id=cid, **values))

    def delete(self, cid: str) -> None:
        from sqlalchemy import delete

        with self._lock, self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.id == cid))


def _bounded(message: dict, limit: int) -> dict:
    content = message.get("content")
    if isinstance(content, str) and len(content) > limit:
        return {**message, "content": content[:limit] + " …"}
    return message


def _redacted(message: dict) -> dict:
    content = message.get("content")
    if message.get("role") == "user" and isinstance(content, str):
        return {**message, "content": redact(content)}
    return message
