"""What the shopper did with a reply (impressions, clicks, cart adds, thumbs), written to
the event log the ranker trains on. Logging never breaks a turn: a log that is down is
named in the reply's notes once, and the shopper carries on."""

from __future__ import annotations

import logging
import threading

from pydantic import BaseModel

from base.privacy import pseudonym
from ranking.events import Event, EventLog, EventLogUnavailableError
from ranking.rank import RankedItem
from ranking.related import Related
from retrieval.schema import Product

from .config import Settings
from .records import DialogueState

log = logging.getLogger(__name__)


class ProductView(BaseModel):
    """Everything a product card opens to."""

    product: Product
    photos: list[str]  # files in the index folder, main photo first
    variants: list[str]  # labels of the variants in stock
    related: Related | None = None  # "also looked at", "goes well with"


class Feedback:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._log: EventLog | None = None
        self._failed: str | None = None
        self._lock = threading.Lock()

    @property
    def log(self) -> EventLog | None:
        if not self.settings.event_log_enabled or self._failed:
            return None
        with self._lock:
            if self._log is None:
                try:
                    self._log = EventLog(self.settings.event_log_location())
                except EventLogUnavailableError as exc:
                    self._failed = str(exc)
        return self._log

    @property
    def salt(self) -> str:
        """A random key per installation (kept in the index folder), so pseudonyms cannot
        be reversed by hashing guesses without it."""
        import secrets
        from pathlib import Path

        path = Path(self.settings.index_dir).expanduser() / ".pseudonym-salt"
        with self._lock:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_hex(16))
            return path.read_text().strip()

    def pseudonym(self, raw: str) -> str:
        return pseudonym(raw, self.salt)

    def verdict(self, conversation: str, kind: str, direction: str, agent: str | None) -> list[str]:
        """An agent's verdict on a suggested reply: used, edited or rejected."""
        event = Event(
            kind=f"suggestion_{kind}",
            session=conversation,
            shopper=self.pseudonym(agent) if agent else None,
            detail={"direction": direction},
        )
        return self._write([event])

    def action(
        self, conversation: str, customer_id: str, name: str, arguments: dict, agent: str | None
    ) -> list[str]:
        """An order action the agent confirmed: who (pseudonymous), when, what."""
        detail = {"action": name, "agent": self.pseudonym(agent) if agent else ""}
        # what was done, never to whom or where: no address, no free-text summary
        kept = ("order_id", "item_ids", "new_item_ids", "payment_method_id", "reason")
        detail |= {
            k: ",".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in arguments.items()
            if k in kept
        }
        event = Event(
            kind="action_confirmed",
            session=conversation or "unknown",
            shopper=self.pseudonym(customer_id),
            detail=dict(list(detail.items())[:16]),
        )
        return self._write([event])

    def _write(self, events: list[Event]) -> list[str]:
        log_ = self.log
        if log_ is None:
            return [f"feedback not recorded: {self._failed}"] if self._failed else []
        try:
            log_.record(events)
        except Exception as exc:  # noqa: BLE001 - a database error must not end the turn
            log.warning("event log write failed: %s", exc)
            return [f"feedback not recorded: event log {log_.where}: {exc}"]
        return []

    def impressions(
        self,
        session: str,
        reply_id: str,
        query: str,
        items: list[RankedItem],
        state: DialogueState,
        ranking_query: str = "",
        shown_as: str = "search",
    ) -> list[str]:
        """`shown_as`: "search", or the list shown ("related:goes_with"): the ranker learns
        only from search replies, whose products answer the query logged with them."""
        events = [
            Event(
                kind="impression",
                session=session,
                reply_id=reply_id,
                query=query or state.need,
                product_id=item.product.id,
                position=n,
                detail={
                    "shown_as": shown_as,
                    "ranking_query": ranking_query,
                    "need": state.need,
                    "filters": state.filters.model_dump_json(exclude_defaults=True),
                },
            )
            for n, item in enumerate(items, 1)
        ]
        return self._write(events)

    def record(
        self,
        session: str,
        kind: str,
        reply_id: str,
        product_id: str | None,
        state: DialogueState | None = None,
    ) -> list[str]:
        position = None
        if state is not None and product_id:
            at = [n for n, s in enumerate(state.shown, 1) if s.product_id == product_id]
            position = at[0] if at else None
        event = Event(
            kind=kind,
            session=session,
            reply_id=reply_id or None,
            product_id=product_id,
            position=position,
            query=state.need if state else "",
        )
        return self._write([event])
