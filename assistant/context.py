"""The records a turn passes between its stages: the `TurnContext` every stage reads and
adds to, and the `Outcome` a handler returns (turn.py makes it the reply)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ranking.rank import RankedItem
from retrieval.schema import SearchFilters

from .records import CompareTable, DialogueState, Explanation, TurnInterpretation
from .understanding.words import Message


@dataclass
class TurnContext:
    session: str
    message: Message  # as admitted (bounded, contact details removed), read once
    before: DialogueState  # the conversation as the turn found it
    turn: TurnInterpretation  # what the message was read as
    state: DialogueState  # the conversation as the turn leaves it
    image: str | None = None
    on_token: Callable[[str], None] | None = None
    said: list[str] = field(default_factory=list)  # lines before the reply ("I left out …")
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    read_by_llm: bool = False
    llm_invented: int = 0
    _clock: float = field(default_factory=time.perf_counter)

    def restart_clock(self) -> None:
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        """The time since the last lap, as `<stage>_ms`."""
        now = time.perf_counter()
        self.timings[f"{stage}_ms"] = round((now - self._clock) * 1000, 1)
        self._clock = now


@dataclass
class Outcome:
    """What a handler found to say and show."""

    text: str
    items: list[RankedItem] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # one per item: a list the shopper saw
    explanations: list[Explanation] = field(default_factory=list)
    by_llm: bool = False
    table: CompareTable | None = None
    filters: SearchFilters | None = None  # what chose the items, when not the state's
