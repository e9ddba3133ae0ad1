"""Prices in a turn: bounds ("under $60" excludes 60.00, "$60 or less" includes it, "at
least 20 euros", "between 20 and 40", "around $50"), in any currency the general language
layer knows, and prices relative to the items shown ("cheaper than that", "pricier")."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from base.language.general import language, phrasings
from base.language.money import AMOUNT, find_money, parse_amount
from base.language.quantities import find_quantities

AROUND = 0.2  # "around $50": 40 to 60


def _bounded(lower: str, start: int, end: int) -> bool:
    """Another amount in the turn has a bound word before or after it."""
    b = language().bounds
    words = [*b.max_strict, *b.max_inclusive, *b.min_strict, *b.min_inclusive, *b.around]
    after = [*b.max_after, *b.min_after]
    return bool(
        re.search(rf"\b(?:{_alt(words)})\s*$", lower[max(0, start - 40) : start])
        or re.match(rf"\s*(?:{_alt(after)})\b", lower[end:])
    )


def _alt(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


@dataclass
class PriceReading:
    min: float | None = None
    max: float | None = None
    min_strict: bool = False
    max_strict: bool = False
    relative: str | None = None  # "cheaper" | "pricier"
    spans: list[tuple[int, int]] = field(default_factory=list)  # character spans read
    currencies: list[str] = field(default_factory=list)


def read_prices(lower: str) -> PriceReading:
    """`lower`: the folded message. Amounts that are quantities ("2 kg") are left alone."""
    out = PriceReading()
    amounts, bare = _amounts(lower, out)
    used = _range(lower, amounts, bare, out)  # ranges first: "between 20 and 40", "$20-$40"
    for i in range(len(amounts)):
        if i not in used:
            _bound(lower, i, amounts, bare, out)
    p = _patterns()
    if out.max is None and (m := p.cheaper.search(lower)):
        out.relative = "cheaper"
        out.spans.append(m.span())
    pricier = p.pricier.search(lower)
    if out.min is None and out.relative is None and pricier:
        out.relative = "pricier"
        out.spans.append(pricier.span())
    return out


class _Patterns:
    """The language layer's bound words as patterns, compiled once."""

    def __init__(self) -> None:
        b = language().bounds
        self.between = re.compile(rf"\b(?:{_alt(b.between)})\s*$")
        self.joiner = phrasings().pattern("range_joiner")
        self.before = [  # "under $40", "at least 20", "around 30"
            (re.compile(rf"\b(?:{_alt(b.max_strict)})\s*$"), "max", True),
            (re.compile(rf"\b(?:{_alt(b.max_inclusive)})\s*$"), "max", False),
            (re.compile(rf"\b(?:{_alt(b.min_strict)})\s*$"), "min", True),
            (re.compile(rf"\b(?:{_alt(b.min_inclusive)})\s*$"), "min", False),
            (re.compile(rf"(?:\b|^|\s)(?:{_alt(b.around)})\s*$"), "around", False),
        ]
        self.after = [  # "$40 or less", "20 and up"
            (re.compile(rf"^\s*(?:{_alt(b.max_after)})\b"), "max"),
            (re.compile(rf"^\s*(?:{_alt(b.min_after)})\b"), "min"),
        ]
        self.cheaper = re.compile(rf"\b(?:{_alt(b.cheaper)})(?:\s+(?:{_alt(b.than)}))?\b")
        self.pricier = re.compile(rf"\b(?:{_alt(b.pricier)})(?:\s+(?:{_alt(b.than)}))?\b")


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


Amount = tuple[int, int, float]  # start, end, value


def _amounts(lower: str, out: PriceReading) -> tuple[list[Amount], set[tuple[int, int]]]:
    """Every amount that is no quantity, in order; the bare ones (no money mark)."""
    taken = [(q.start, q.end) for q in find_quantities(lower)]

    def free(s: int, e: int) -> bool:
        return not any(a < e and s < z for a, z in taken)

    amounts: list[Amount] = []
    for m in find_money(lower):
        if free(m.start, m.end):
            amounts.append((m.start, m.end, m.amount))
            if m.currency:
                out.currencies.append(m.currency)
    marked = list(amounts)
    for m in re.finditer(r"(?<![\w.,#$€£¥₹])" + AMOUNT + r"(?![\w%])", lower):
        if free(m.start(), m.end()) and not any(a <= m.start() < z for a, z, _ in marked):
            amounts.append((m.start(), m.end(), parse_amount(m.group(1))))
    amounts.sort()
    return amounts, {(s, e) for s, e, _ in amounts} - {(s, e) for s, e, _ in marked}


def _range(lower: str, amounts: list[Amount], bare, out: PriceReading) -> set[int]:
    """The first range of two amounts; the positions it used."""
    p = _patterns()
    for i, (s, e, value) in enumerate(amounts):
        if i + 1 < len(amounts) and p.joiner.match(lower[e : amounts[i + 1][0]]):
            s2, e2, value2 = amounts[i + 1]
            start = s
            if m := p.between.search(lower[:s]):
                start = m.start()
            elif (s, e) in bare and (s2, e2) in bare:
                continue  # "2 and 3" with no money mark and no "between" is not a price
            out.min, out.max = min(value, value2), max(value, value2)
            out.spans.append((start, e2))
            return {i, i + 1}
    return set()


def _bound(lower: str, i: int, amounts: list[Amount], bare, out: PriceReading) -> None:
    """Amount i as a bound, by the words before or after it ("under", "or less"); a money
    amount alone is a budget unless another amount is bounded."""
    p = _patterns()
    s, e, value = amounts[i]
    head = lower[max(0, s - 40) : s]
    kind = strict = None
    start, end = s, e
    for pattern, k, st in p.before:
        if m := pattern.search(head):
            kind, strict, start = k, st, s - len(head) + m.start()
            break
    if kind is None:
        for pattern, k in p.after:
            if m := pattern.match(lower[e:]):
                kind, strict, end = k, False, e + m.end()
                break
    if kind is None:
        if (
            (s, e) in bare
            or out.max is not None
            or out.min is not None
            or any(_bounded(lower, a, b) for j, (a, b, _) in enumerate(amounts) if j != i)
        ):
            return  # no bound: "size 32"; or a bounded amount says the budget already
        kind, strict = "max", False  # "a <kind> for <price>"
    if kind == "max":
        out.max, out.max_strict = value, bool(strict)
    elif kind == "min":
        out.min, out.min_strict = value, bool(strict)
    else:
        out.min, out.max = round(value * (1 - AROUND), 2), round(value * (1 + AROUND), 2)
    out.spans.append((start, end))
