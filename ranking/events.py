"""The event log: what shoppers were shown and what they did with it (impressions, clicks,
cart adds, thumbs), the raw material of the ranker's training data.

SQLite (WAL, so the UI writes while training reads) by default; any SQLAlchemy URL, e.g.
PostgreSQL, when several app processes share one log. Sessions and shoppers are
pseudonymous, and e-mail addresses, card-like and phone numbers are redacted from every text
field before anything is stored.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from base.privacy import redact
from base.stores import StoreUnavailableError, create_tables, open_engine

EventKind = Literal[
    "impression",  # a product shown at a position in a reply
    "click",  # a product card opened
    "cart_add",
    "thumbs_up",  # on a reply: applies to the products it showed
    "thumbs_down",
    "suggestion_used",  # agent console: a suggested reply used as is, edited or rejected
    "suggestion_edited",
    "suggestion_rejected",
    "action_confirmed",  # agent console: a proposed order action the agent confirmed
]

DETAIL_CHARS = 500  # one detail value; an event never carries a page of text
DETAIL_KEYS = 16


class Event(BaseModel):
    kind: EventKind
    session: str = Field(min_length=1)  # already pseudonymous (random per conversation)
    reply_id: str | None = None  # the reply the event is about
    query: str = ""  # what the shopper asked, redacted
    product_id: str | None = None
    position: int | None = Field(None, ge=1)  # 1-based position in the reply
    shopper: str | None = None  # pseudonym of a returning shopper, if known
    detail: dict[str, str] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("query")
    @classmethod
    def _redact(cls, value: str) -> str:
        return redact(value[: DETAIL_CHARS * 2])[:DETAIL_CHARS]

    @field_validator("detail")
    @classmethod
    def _redact_detail(cls, value: dict[str, str]) -> dict[str, str]:
        """Every field, not only `query`: a need or a ranking query is the shopper's text."""
        kept = list(value.items())[:DETAIL_KEYS]
        return {k[:64]: redact(v[: DETAIL_CHARS * 2])[:DETAIL_CHARS] for k, v in kept}


class EventLog:
    """Append-only event store. Thread-safe; one per process."""

    def __init__(self, url: str):
        from sqlalchemy import (
            JSON,
            Column,
            DateTime,
            Integer,
            MetaData,
            String,
            Table,
            Text,
        )

        self.url = url
        self.engine = open_engine(url, "event log", EventLogUnavailableError)
        meta = MetaData()
        self.table = Table(
            "events",
            meta,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("at", DateTime(timezone=True), nullable=False, index=True),
            Column("kind", String(32), nullable=False, index=True),
            Column("session", String(64), nullable=False, index=True),
            Column("reply_id", String(64)),
            Column("query", Text, nullable=False, default=""),
            Column("product_id", String(200)),
            Column("position", Integer),
            Column("shopper", String(64)),
            Column("detail", JSON, nullable=False, default=dict),
        )
        self._lock = threading.Lock()
        create_tables(meta, self.engine, f"event log {self.where}", EventLogUnavailableError)

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def record(self, events: Iterable[Event]) -> int:
        rows = [e.model_dump() for e in events]
        if rows:
            with self._lock, self.engine.begin() as conn:
                conn.execute(self.table.insert(), rows)
        return len(rows)

    def events(self, kinds: Iterable[str] | None = None) -> Iterator[Event]:
        from sqlalchemy import select

        query = select(self.table).order_by(self.table.c.id)
        if kinds is not None:
            query = query.where(self.table.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                data = dict(row._mapping)
                data.pop("id")
                if isinstance(data["detail"], str):
                    data["detail"] = json.loads(data["detail"])
                yield Event.model_validate(data)

    def count(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.table)).scalar_one()


class EventLogUnavailableError(StoreUnavailableError):
    pass
