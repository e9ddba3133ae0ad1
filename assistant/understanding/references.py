"""References to the items shown: "the second one", "the first two", "the last one", "#3",
"both"."""

from __future__ import annotations

import re

from base.language.general import language

from .words import Token

COUNTS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


def read_references(
    lower: str, tokens: list[Token], n_shown: int
) -> tuple[list[int], set[int], list[str]]:
    """(1-based positions, tokens consumed, doubts)."""
    ordinals = language().ordinals
    refs: list[int] = []
    consumed: set[int] = set()

    def take(span: tuple[int, int]) -> None:
        consumed.update(i for i, t in enumerate(tokens) if t.start >= span[0] and t.end <= span[1])

    if m := re.search(r"\b(?:the\s+)?first\s+(two|three|four|2|3|4)\b", lower):
        refs = list(range(1, COUNTS[m.group(1)] + 1))
        take(m.span())
    elif m := re.search(r"\b(?:the\s+)?last\s+(two|three|2|3)\b", lower):
        count = COUNTS[m.group(1)]
        refs = list(range(max(1, n_shown - count + 1), n_shown + 1)) if n_shown else []
        take(m.span())
    elif re.search(r"\b(both|these two|those two|the two)\b", lower):
        refs = [1, 2]
    for i, t in enumerate(tokens):
        if i in consumed:
            continue
        nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if t.text in ordinals and nxt not in ("time", "class"):
            refs.append(ordinals[t.text])
            consumed.add(i)
        elif t.text == "last" and n_shown and nxt not in ("night", "week", "year", "time"):
            refs.append(n_shown)
            consumed.add(i)
    for m in re.finditer(r"(?:#|\bnumber\s*|\bno\.\s*|\bitem\s*|\boption\s*)(\d)\b", lower):
        refs.append(int(m.group(1)))
        take(m.span())
    refs = list(dict.fromkeys(r for r in refs if r >= 1))
    doubts = []
    if refs and n_shown and any(r > n_shown for r in refs):
        doubts.append("reference beyond the items shown")
    return refs, consumed, doubts
