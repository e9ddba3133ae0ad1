"""Which words a negation reaches: "not <value> or <value>", "no <material>", "anything
but <value>", "any colour but <colour>" (word lists from the general language layer)."""

from __future__ import annotations

from base.language.general import language, phrasings

from .words import Token

REACH = 4  # words after the negator
WORDS = phrasings().words


def negated_positions(tokens: list[Token], text: str = "") -> set[int]:
    lang = language()
    words = [t.text for t in tokens]
    out: set[int] = set()
    for i, w in enumerate(words):
        if w not in lang.negators:
            continue
        if i + 1 < len(tokens) and text[tokens[i].end : tokens[i + 1].start] == "-":
            out.add(i + 1)  # "non-alcoholic": the prefix reaches its own word only
            continue
        if w in WORDS["except_word"] and not (
            i > 0
            and (
                words[i - 1] in WORDS["except_after"]
                or (i > 1 and words[i - 2] in WORDS["except_after_quantifier"])
            )
        ):
            continue
        if i + 1 < len(words) and f"{w} {words[i + 1]}" in WORDS["no_exclusion"]:
            continue  # "no more than $50" is a price bound, not an exclusion
        j = i + 1
        while j < len(words) and j <= i + REACH:
            if words[j] in lang.negation_stop:
                break
            if words[j] not in lang.negation_skip:
                out.add(j)
            j += 1
    return out
