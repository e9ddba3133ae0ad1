"""Checking the facts a drafted reply states against the policy passages and products it
rests on: durations ("30 days", "1 to 2 business days", "a 30-day window"), amounts of
money, percentages and clock times. A number the sources do not state is *unsupported*;
one where the sources state a different number of the same kind ("60 days" where the
policy says 30) *contradicts* them. Either way the draft is not used as is."""

from __future__ import annotations

import re

from pydantic import BaseModel

from base.language.general import language, phrasings
from base.language.money import find_money, format_money
from base.language.text import singular

WORDS = phrasings().words
# spelled numbers from the general language layer, and "a"/"an" ("a 30-day window" is 30,
# "within a day" is no number a draft could contradict)
WORD_NUMBERS = {
    **{w: int(n) for w, n in language().numbers.items()},
    **dict.fromkeys(WORDS["article_one"], 1),
}
_NUM = (
    r"(\d+(?:\.\d+)?|"
    + "|".join(re.escape(w) for w in sorted(WORD_NUMBERS, key=len, reverse=True))
    + ")"
)
DURATION = phrasings().pattern("duration", number=_NUM)
PERCENT = phrasings().pattern("percent")
CLOCK = phrasings().pattern("clock")


class Fact(BaseModel, frozen=True):
    kind: str  # "day", "business day", "year", "money", "percent", "clock"
    value: float
    currency: str | None = None  # money: as written ("$", "€"); None when bare

    def __str__(self) -> str:
        if self.kind == "money":
            return format_money(self.value, self.currency or "USD")
        if self.kind == "percent":
            return f"{self.value:g}%"
        if self.kind == "clock":
            return f"{int(self.value) % 12 or 12} {'pm' if self.value >= 12 else 'am'}"
        return f"{self.value:g} {self.kind}s"


class FactProblem(BaseModel):
    fact: str
    reason: str  # "contradicts: the policy says 30 days" / "not in the sources"


def _number(token: str) -> float | None:
    token = token.casefold()
    if token in WORD_NUMBERS:
        return float(WORD_NUMBERS[token])
    try:
        return float(token)
    except ValueError:
        return None


def facts_in(text: str) -> set[Fact]:
    out: set[Fact] = set()
    for m in DURATION.finditer(text):
        kind = singular(m.group(4))  # "days" → "day"
        if m.group(3):
            kind = f"business {kind}"
        for token in (m.group(1), m.group(2)):
            if token and (n := _number(token)) is not None:
                # "a day" / "an hour" count only as a number when written as one
                if token.casefold() in WORDS["article_one"]:
                    continue
                out.add(Fact(kind=kind, value=n))
    for m in find_money(text):
        out.add(Fact(kind="money", value=m.amount, currency=m.currency))
    for m in PERCENT.finditer(text):
        out.add(Fact(kind="percent", value=float(m.group(1))))
    for m in CLOCK.finditer(text):
        afternoon = m.group(3).casefold() in WORDS["clock_afternoon"]
        hour = int(m.group(1)) % 12 + (12 if afternoon else 0)
        out.add(Fact(kind="clock", value=hour + int(m.group(2) or 0) / 60))
    return out


def check_facts(draft: str, sources: list[str]) -> list[FactProblem]:
    """Problems with each fact `draft` states that none of `sources` states."""
    allowed: set[Fact] = set().union(*(facts_in(s) for s in sources)) if sources else set()
    problems = []
    for fact in sorted(facts_in(draft), key=str):
        if fact in allowed:
            continue
        same_kind = sorted(str(f) for f in allowed if f.kind == fact.kind)
        if same_kind:
            reason = f"contradicts the sources, which say {', '.join(same_kind[:3])}"
        else:
            reason = "not stated in the policies or products it rests on"
        problems.append(FactProblem(fact=str(fact), reason=reason))
    return problems
