"""Precedents: how the shop resolved conversations before — imported from its history
(JSONL of resolved conversations) and every reply an agent used or edited in the console —
searchable, so the console shows the two closest resolved cases beside its suggestions.

Stored redacted (no e-mail address, card or phone number), in SQLite in the index folder
(`precedents.sqlite`) or any SQLAlchemy URL; searched with BM25 over the customer's words."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from base.privacy import redact
from base.stores import StoreUnavailableError, create_tables, open_engine
from retrieval.lexical import LexicalIndex

from .conversation import ConversationFormatError, Message, parse_conversation


class PrecedentStoreUnavailableError(StoreUnavailableError):
    pass


class Precedent(BaseModel):
    id: int = 0
    asked: str  # what the customer wrote, redacted
    reply: str  # the reply that resolved it, redacted
    source: str  # "imported", "used" or "edited"
    at: datetime | None = None
    score: float = 0.0  # how close to the conversation at hand (BM25), when found


class PrecedentStore:
    def __init__(self, url: str):
        from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

        self.engine = open_engine(url, "precedent store", PrecedentStoreUnavailableError)
        meta = MetaData()
        self.table = Table(
            "precedents",
            meta,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("asked", Text, nullable=False),
            Column("reply", Text, nullable=False),
            Column("source", String(16), nullable=False),
            Column("at", DateTime(timezone=True), nullable=False),
        )
        create_tables(
            meta, self.engine, f"precedent store {self.where}", PrecedentStoreUnavailableError
        )
        self._lock = threading.Lock()
        self._index: tuple[int, list[Precedent], LexicalIndex] | None = None

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def add(self, messages: list[Message], reply: str, source: str) -> None:
        asked = " ".join(m.text for m in messages if m.role == "customer")
        self.add_many([(asked, reply)], source)

    def add_many(self, pairs: list[tuple[str, str]], source: str) -> None:
        now = datetime.now(UTC)
        rows = [
            {"asked": redact(a)[:4000], "reply": redact(r)[:4000], "source": source, "at": now}
            for a, r in pairs
            if a.strip() and r.strip()
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(self.table.insert(), rows)

    def all(self) -> list[Precedent]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            rows = conn.execute(select(self.table).order_by(self.table.c.id)).mappings()
            return [Precedent(**dict(r)) for r in rows]

    def closest(self, asked: str, k: int = 2) -> list[Precedent]:
        """The k resolved cases whose customer words are closest to `asked`."""
        cases, index = self._searchable()
        if not cases or not asked.strip():
            return []
        scores = index.scores(redact(asked))
        best = sorted(range(len(cases)), key=lambda i: -scores[i])[:k]
        return [
            cases[i].model_copy(update={"score": float(scores[i])}) for i in best if scores[i] > 0
        ]

    def _searchable(self) -> tuple[list[Precedent], LexicalIndex]:
        """The BM25 index over every case, rebuilt when cases were added."""
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(self.table)).scalar_one()
        with self._lock:
            if self._index is None or self._index[0] != count:
                cases = self.all()
                self._index = (count, cases, LexicalIndex.build([c.asked for c in cases]))
            return self._index[1], self._index[2]


def read_precedents(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """A JSONL of resolved conversations: each line {"messages": [{"role", "text"}, …] or
    "conversation": "Customer: …\\nAgent: …", and "reply": the reply that resolved it
    (default: the conversation's last agent message)}. Bad lines: reported with their number."""
    pairs, bad = [], []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            text = raw.get("conversation") or "\n".join(
                json.dumps(m) for m in raw.get("messages", [])
            )
            messages = parse_conversation(text)
            reply = raw.get("reply") or next(
                (m.text for m in reversed(messages) if m.role == "agent"), ""
            )
            asked = " ".join(m.text for m in messages if m.role == "customer")
            if not asked or not reply:
                raise ValueError("needs the customer's words and the reply that resolved it")
            pairs.append((asked, reply))
        except (json.JSONDecodeError, ConversationFormatError, ValueError, AttributeError) as exc:
            bad.append(f"line {n}: {exc}")
    return pairs, bad
