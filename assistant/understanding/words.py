"""The catalog's words as a phrase matcher: which spans of a shopper's message name one of
this shop's categories, kinds, facet values (brands, materials, flavours …), colours,
audiences or sizes, and which words the catalog uses at all.

Built from the lexicon (retrieval/lexicon.py) and the general language layer; the rules
that keep it honest:
- a word applies to a facet only if this catalog has that facet (no colour reading in a
  shop with no colour facet: the word stays free text, and a hint for photo colours);
- a synonym never hides a word the catalog itself uses (a kind the shop names stays that
  kind; its synonyms find it);
- a phrase the catalog uses in its product names ("<colour> <kind>" as a product's name)
  is a product phrase: its colour word is no colour;
- a typo is corrected only for a word that is neither the catalog's nor ordinary English.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from base.language.general import language, phrasings
from base.language.text import fold, part_spans, term
from retrieval.lexicon import Lexicon

ReadingKind = Literal["category", "facet", "color", "audience", "size"]
MAX_PHRASE = 4
TYPO_CUTOFF = 82  # rapidfuzz ratio; one swapped pair in a six-letter word scores 83
PART = phrasings().pattern("facet_value_parts")


@dataclass(frozen=True)
class Reading:
    kind: ReadingKind
    value: str  # category segment, facet value, basic colour or shade, audience group, size
    key: str = ""  # the facet key, for facet and size readings
    derived: bool = False  # a kind read from titles


@dataclass(frozen=True)
class Token:
    text: str  # folded
    term: str
    start: int  # character offsets in the message
    end: int


@dataclass
class Span:
    start: int  # token indices [start, end)
    end: int
    readings: list[Reading]
    via: str = "exact"  # exact | synonym | typo | rewrite
    rewrite: str = ""  # for a rewrite: the catalog's own words for the phrase

    def kinds(self, kind: ReadingKind) -> list[Reading]:
        return [r for r in self.readings if r.kind == kind]


def tokenize(text: str) -> list[Token]:
    """Words of a message, hyphenated ones split ("gluten-free" → gluten, free), "&" read
    as "and"; offsets index the original text."""
    amp = phrasings().ampersand
    out = [Token(amp, amp, m.start(), m.end()) for m in re.finditer("&", text)]
    out += [Token(w, term(w), a, b) for w, a, b in part_spans(text)]
    return sorted(out, key=lambda t: t.start)


def phrase_terms(text: str) -> tuple[str, ...]:
    return tuple(t.term for t in tokenize(text))


@dataclass(frozen=True)
class Message:
    """A shopper's message read once per turn: its text, folded, and its tokens. Every
    reader of the turn (the rules, the LLM's checks, the language guess) takes this."""

    text: str
    lower: str
    tokens: list[Token]

    @classmethod
    def of(cls, text: str | Message) -> Message:
        return text if isinstance(text, Message) else cls(text, fold(text), tokenize(text))

    @functools.cached_property
    def terms(self) -> tuple[str, ...]:
        return tuple(t.term for t in self.tokens)

    @functools.cached_property
    def words(self) -> frozenset[str]:
        return frozenset(t.text for t in self.tokens)


@dataclass
class CatalogWords:
    lexicon: Lexicon
    table: dict[tuple[str, ...], list[Reading]] = field(default_factory=dict)
    codes: dict[str, list[Reading]] = field(default_factory=dict)  # "s", "32": need context
    facet_names: dict[tuple[str, ...], str] = field(default_factory=dict)  # terms → facet key
    synonyms: dict[tuple[str, ...], list[Reading]] = field(default_factory=dict)
    # a shopper's phrase → the catalog's (lexicon rewrites)
    rewrites: dict[tuple[str, ...], str] = field(default_factory=dict)
    rewrite_kinds: dict[tuple[str, ...], list[Reading]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lex, lang = self.lexicon, language()
        add = self._add
        collections = set(lex.collections)
        for c in lex.kinds():
            if c.segment in collections:
                continue
            reading = Reading("category", c.segment, derived=c.derived)
            add(phrase_terms(c.display), reading)
            for part in PART.split(c.display):
                terms = phrase_terms(part)
                if not terms:
                    continue
                add(terms, reading)
                if len(terms) > 1:  # "video download": the noun and the head word
                    add(terms[-1:], reading)
                    for t in terms[:-1]:
                        if t in _noun_terms():
                            add((t,), reading)
        has_color = bool(lex.color_keys())
        for _key, f in lex.facets.items():
            self.facet_names.setdefault(phrase_terms(f.key.replace("_", " ")), f.key)
            if not f.constrains or f.dimension:
                continue
            for value in f.values:
                terms = phrase_terms(value)
                if not terms:
                    continue
                kind = "color" if f.color else "facet"
                reading = Reading(kind, value, key=f.key)
                if len(terms) == 1 and (len(value) <= 2 or value.isdigit()):
                    self.codes.setdefault(terms[0], []).append(reading)
                else:
                    add(terms, reading)
        if has_color:
            for word, basic in lang.color_of.items():
                add(phrase_terms(word), Reading("color", basic if word != basic else word))
        else:  # no colour facet: colour words are free text, kept only as photo hints
            for word, basic in lang.color_of.items():
                self.table.setdefault(phrase_terms(word), []).append(Reading("color", basic))
        for demonym, country in lang.demonyms.items():  # "French" → origin: France
            for r in list(self.table.get(phrase_terms(country), [])):
                if r.kind == "facet":
                    add(phrase_terms(demonym), r)
        for group, ws in lang.audience.items():
            for w in ws:
                add(phrase_terms(w), Reading("audience", group))
        size_values = {
            v: f.key for f in lex.facets.values() if f.level != "attribute" for v in f.values
        }
        for phrase, code in lang.sizes.items():
            if code in size_values:
                add(phrase_terms(phrase), Reading("size", code, key=size_values[code]))
        self._synonyms()

    def _add(self, terms: tuple[str, ...], reading: Reading) -> None:
        if len(terms) > MAX_PHRASE:
            return
        readings = self.table.setdefault(terms, [])
        if reading not in readings:
            readings.append(reading)

    def _synonyms(self) -> None:
        """General synonym groups and the shop's own, for words the catalog does not use."""
        lang = language()
        pairs: list[tuple[str, list[str]]] = [
            (w, others) for w, others in lang.synonyms_of.items()
        ] + [(w, means) for w, means in self.lexicon.synonyms.items()]
        for word, targets in pairs:
            terms = phrase_terms(word)
            if not terms or (len(terms) == 1 and self.is_catalog_word(terms[0])):
                continue  # the catalog's own word: never replaced
            found: list[Reading] = []
            for t in targets:
                found += [r for r in self.table.get(phrase_terms(t), []) if r not in found]
            if found:
                self.synonyms.setdefault(terms, found)
            elif len(terms) > 1:
                # a phrase the catalog writes otherwise (a lexicon rewrite): searched
                # by the catalog's words and the shopper's, never read as its last word's kind
                own = [t for t in targets if self._catalog_phrase(phrase_terms(t))]
                if own:
                    extra = [w for w in word.split() if term(w) not in phrase_terms(own[0])]
                    self.rewrites.setdefault(terms, " ".join([own[0], *extra]))
                    # …under the categories where the catalog's titles use it
                    t = phrase_terms(own[0])
                    cats = (
                        set.intersection(
                            *(
                                set(self.lexicon.bigrams.get(f"{a} {b}", []))
                                for a, b in zip(t, t[1:], strict=False)
                            )
                        )
                        if len(t) > 1
                        else set()
                    )
                    self.rewrite_kinds[terms] = [
                        Reading("category", c) for c in sorted(cats) if c in self.lexicon.categories
                    ]

    @functools.cached_property
    def _bigrams(self) -> frozenset[str]:
        return frozenset(self.lexicon.bigrams)

    def _catalog_phrase(self, terms: tuple[str, ...]) -> bool:
        """The phrase occurs in the catalog's titles, its words side by side."""
        if len(terms) == 1:
            return terms[0] in self.lexicon.title_words
        pairs = [f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False)]
        return all(p in self._bigrams for p in pairs)

    # ---- look-ups ---------------------------------------------------------------------
    def is_catalog_word(self, term_: str) -> bool:
        return term_ in self.lexicon.words

    @functools.cached_property
    def phrases(self) -> frozenset[str]:
        """The product phrases of the catalog's titles (term bigrams), to look up per turn."""
        return frozenset(self.lexicon.phrases)

    @functools.cached_property
    def _typo_choices(self) -> dict[str, tuple[str, ...]]:
        """Spellings a typo may be near: each one-word kind or facet value as a term and as
        the catalog writes it (a typo is often nearer the written form than the term)."""
        out: dict[str, tuple[str, ...]] = {}
        for terms, readings in self.table.items():
            if (
                len(terms) == 1
                and len(terms[0]) >= 4
                and any(r.kind in ("category", "facet") for r in readings)
            ):
                out[terms[0]] = terms
        lex = self.lexicon
        surfaces = [w for c in lex.categories.values() for w in fold(c.display).split()]
        surfaces += [
            w
            for f in lex.facets.values()
            if f.constrains
            for v in f.values
            for w in fold(v).split()
        ]
        for w in surfaces:
            key = (term(w),)
            if len(w) >= 4 and w.isalpha() and key in self.table:
                out.setdefault(w, key)
                out.setdefault(w.rstrip("s"), key)
        return out

    def match(self, tokens: list[Token]) -> list[Span]:
        """Leftmost-longest spans with readings; synonyms, then typos, for the rest."""
        spans: list[Span] = []
        i = 0
        while i < len(tokens):
            found = None
            for length in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                key = tuple(t.term for t in tokens[i : i + length])
                if key in self.table:
                    found = Span(i, i + length, list(self.table[key]))
                    break
                if key in self.synonyms:
                    found = Span(i, i + length, list(self.synonyms[key]), via="synonym")
                    break
                if key in self.rewrites:
                    kinds = list(self.rewrite_kinds.get(key, []))
                    found = Span(i, i + length, kinds, via="rewrite", rewrite=self.rewrites[key])
                    break
            if found is None and (typo := self._typo(tokens[i])):
                found = Span(i, i + 1, typo, via="typo")
            if found:
                spans.append(found)
                i = found.end
            else:
                i += 1
        return spans

    def _typo(self, token: Token) -> list[Reading] | None:
        t = token.term
        if len(t) < 5 or not t.isalpha() or self.is_catalog_word(t) or _english(token.text):
            return None
        from rapidfuzz import fuzz, process

        best = process.extractOne(token.text, list(self._typo_choices), scorer=fuzz.ratio)
        if best and best[1] >= TYPO_CUTOFF:
            return list(self.table[self._typo_choices[best[0]]])
        return None

    def code_readings(self, token: Token) -> list[Reading]:
        """Short values ("S", "XL", "32") that count only when said as a size."""
        return self.codes.get(token.term, []) or self.codes.get(token.text, [])

    def facet_named(self, tokens: list[Token], i: int) -> tuple[str, int] | None:
        """The facet whose name starts at token i ("screen size", "RAM"), and its length."""
        for length in range(min(3, len(tokens) - i), 0, -1):
            key = tuple(t.term for t in tokens[i : i + length])
            if key in self.facet_names:
                return self.facet_names[key], length
        return None


@functools.cache
def _noun_terms() -> frozenset[str]:
    return frozenset(term(n) for n in language().product_nouns if " " not in n)


def is_product_noun(terms: tuple[str, ...]) -> bool:
    return " ".join(terms) in _product_noun_phrases()


@functools.cache
def _product_noun_phrases() -> frozenset[str]:
    return frozenset(" ".join(term(w) for w in n.split()) for n in language().product_nouns)


@functools.lru_cache(maxsize=8192)
def _english(word: str) -> bool:
    """An ordinary English word (so not a typo to correct, and not a foreign word)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 2.5


def english_word(word: str) -> bool:
    return _english(word)
