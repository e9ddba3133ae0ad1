"""The product page's "also looked at" and "goes well with", from the live event log:
co-engagement is recounted at most every `related_refresh_s`, by one thread while the
others keep the counts they have (ranking/related.py does the finding)."""

from __future__ import annotations

import logging
import threading
import time

from ranking.co_engagement import VIEW_KINDS, CoEngagement
from ranking.related import Related, RelatedFinder
from retrieval.index import ProductIndex

from .config import Settings
from .feedback import Feedback

log = logging.getLogger(__name__)


class LiveRelated:
    def __init__(self, settings: Settings, feedback: Feedback):
        """`feedback`: the writer of the event log these are counted from."""
        self.settings, self.feedback = settings, feedback
        self._co: CoEngagement | None = None
        self._counted = -float("inf")
        self._lock = threading.Lock()
        self._note: str | None = None

    def co_engagement(self) -> CoEngagement:
        due = time.monotonic() - self._counted >= self.settings.related_refresh_s
        if (due or self._co is None) and self._lock.acquire(blocking=self._co is None):
            try:
                self._co, self._note = self._count(), None
            except Exception as exc:  # noqa: BLE001 - a log that is down: content only
                log.warning("co-engagement not counted: %s", exc)
                self._co = self._co or CoEngagement()
                self._note = f"event log not read ({exc}): neighbours by content only"
            finally:
                self._counted = time.monotonic()
                self._lock.release()
        return self._co or CoEngagement()

    def _count(self) -> CoEngagement:
        events = self.feedback.log
        if events is None:
            return CoEngagement()
        return CoEngagement.from_events(events.events(VIEW_KINDS))

    def of(self, index: ProductIndex, product_id: str) -> Related:
        """The product's neighbours in `index` (the turn's generation)."""
        found = RelatedFinder(index, self.co_engagement()).related(
            product_id, self.settings.related_per_list
        )
        if self._note:
            found.notes.append(self._note)
        return found
