"""One tokeniser and normaliser for all of Aisle.

`fold` lower-cases and strips accents character by character, so spans found in the folded
text index the original text too. `words` splits into tokens (hyphenated and possessive words whole,
"crème" → "creme"); `term` is the key two words are matched by (case, accents and plurals ignored).
"""

from __future__ import annotations

import functools
import re
import unicodedata

TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")  # a word: "well-made", "shop's"
PART = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # a word's parts: "well", "made"; "shop's"


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c in "’‘`´":
        return "'"
    low = c.lower()
    if len(low) != 1:
        return c
    base = unicodedata.normalize("NFKD", low)[:1]
    return base if base.isalnum() or not low.isalnum() else low


def fold(text: str) -> str:
    """Lower case, accents off, curly quotes straight; same length as `text`."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


@functools.lru_cache(maxsize=65536)  # the same facet keys and values, many times a turn
def normalise(value: str) -> str:
    """Comparison key for catalog values: case-, accent- and space-insensitive."""
    return " ".join(fold(value).split())


def words(text: str) -> list[str]:
    return TOKEN.findall(fold(text))


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) over `fold(text)`, which has the same offsets as `text`."""
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(fold(text))]


def part_spans(text: str) -> list[tuple[str, int, int]]:
    """Like `token_spans`, with hyphenated words split into their parts ("gluten-free" →
    gluten, free), so "gluten free" and "gluten-free" read alike."""
    return [(m.group(0), m.start(), m.end()) for m in PART.finditer(fold(text))]


def _invariant() -> frozenset[str]:
    from .general import language

    return language().invariant


@functools.lru_cache(maxsize=65536)
def singular(word: str) -> str:
    """A rough English singular: 'cards' → 'card', 'churches' → 'church', 'heroes' →
    'hero', 'fitness' and 'status' stay. Written here because `inflect` takes seconds to
    import and mangles words shops use (Latin '-us' nouns lose their 's'); matching needs
    consistency, not perfect English, since catalog and shopper words go through the same
    function."""
    w = word.casefold()
    if len(w) <= 3 or w in _invariant() or w.endswith(("ss", "us", "is", "'s")):
        return w.removesuffix("'s") if w.endswith("'s") else w
    for suffix in ("sses", "shes", "ches", "xes", "zzes"):
        if w.endswith(suffix):
            return w[:-2]
    if w.endswith("oes") and len(w) > 5 and w[-4] not in "aeiou":
        return w[:-2]  # heroes → hero (but a vowel before: "-oes" → "-oe" below)
    if w.endswith("s") and not w.endswith("'s"):
        return w[:-1]
    return w


def plural(word: str) -> str:
    """A rough English plural ("box" → "boxes", "card" → "cards"), for writing queries."""
    return word + ("es" if word.endswith(("ch", "sh", "x")) else "s")


def ves_plural(word: str) -> str:
    """A plural in -ves ("shelf" → "shelves", "knife" → "knives"); other words as `plural`."""
    if word.endswith("fe"):
        return word[:-2] + "ves"
    return word[:-1] + "ves" if word.endswith("f") else word + "s"


def noun_forms(word: str) -> set[str]:
    """The spellings a noun may be written in, loosely: itself and its plurals ("shelf",
    "shelfs", "shelves"; "box", "boxes"), for finding a name in a customer's words."""
    return {word, word + "s", word + "es", ves_plural(word)}


SUPERLATIVE = re.compile(r"[a-z]+est\b")


def superlatives(text: str) -> list[list[str]]:
    """For each superlative in a folded text ("easiest", "largest", "hardest"), the words it
    may be the superlative of, likeliest first ("easy", "larg", "large", "hard")."""
    return [
        [b for b in (w[:-3], w[:-4] + "y", w[:-3] + "e", w[:-4]) if len(b) > 2]
        for w in SUPERLATIVE.findall(text)
    ]


@functools.lru_cache(maxsize=65536)
def term(word: str) -> str:
    """The key words are matched by: folded, singular, and "-ie"/"-y" endings joined
    ('cookies', 'cooky', 'cookie' → 'cooky'; 'cities', 'city' → 'city')."""
    w = singular(fold(word).replace("'", ""))
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ie") and len(w) > 4:
        w = w[:-2] + "y"
    return w


def terms(text: str) -> list[str]:
    return [term(w) for w in words(text)]


def phrase_key(text: str) -> tuple[str, ...]:
    """A phrase as the tuple of its word keys: "Cookies & Cards" → ('cooky', 'card');
    used to match multi-word catalog values."""
    return tuple(terms(text))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem for telling whether a text speaks of a word at all ("warm" in
    "warming", "hike" in "hiking"): the term without -ing, -ed, -er, -est, -ly or a final e.
    Looser than `term`, so used only for explaining, never for filtering."""
    w = term(word)
    for suffix in ("ing", "est", "ed", "er", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w
