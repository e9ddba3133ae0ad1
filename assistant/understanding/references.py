"""References to the items shown: "the second one", "the first two", "the last one", "#3",
"both"."""

from __future__ import annotations

from base.language.general import language, phrasings

from .words import Token

FIRST_N = phrasings().pattern("first_n")
LAST_N = phrasings().pattern("last_n")
THE_TWO = phrasings().pattern("the_two")
NUMBERED = phrasings().pattern("numbered_item")  # "#3", "number 2", "option 3"
WORDS = phrasings().words
COUNTS = phrasings().counts  # "compare the two"


def read_references(
    lower: str, tokens: list[Token], n_shown: int
) -> tuple[list[int], set[int], list[str]]:
    """(1-based positions, tokens consumed, doubts)."""
    ordinals = language().ordinals
    refs: list[int] = []
    consumed: set[int] = set()

    def take(span: tuple[int, int]) -> None:
        consumed.update(i for i, t in enumerate(tokens) if t.start >= span[0] and t.end <= span[1])

    if m := FIRST_N.search(lower):
        refs = list(range(1, COUNTS[m.group(1)] + 1))
        take(m.span())
    elif m := LAST_N.search(lower):
        count = COUNTS[m.group(1)]
        refs = list(range(max(1, n_shown - count + 1), n_shown + 1)) if n_shown else []
        take(m.span())
    elif THE_TWO.search(lower):
        refs = [1, 2]
    for i, t in enumerate(tokens):
        if i in consumed:
            continue
        nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if t.text in ordinals and nxt not in WORDS["not_position_before"]:
            refs.append(ordinals[t.text])
            consumed.add(i)
        elif t.text in WORDS["last"] and n_shown and nxt not in WORDS["not_last_before"]:
            refs.append(n_shown)
            consumed.add(i)
    for m in NUMBERED.finditer(lower):
        refs.append(int(m.group(1)))
        take(m.span())
    refs = list(dict.fromkeys(r for r in refs if r >= 1))
    doubts = []
    if refs and n_shown and any(r > n_shown for r in refs):
        doubts.append("reference beyond the items shown")
    return refs, consumed, doubts
