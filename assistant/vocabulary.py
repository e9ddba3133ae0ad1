"""The catalog's own words, and how a shopper's words map onto them.

Built from the index (`FacetIndex.vocabulary()`), so a value can only ever be one the
catalog holds. Shopper words are matched after light normalisation (case, plurals,
general retail synonyms) and, for longer words, a close-spelling match (typos).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

from retrieval.color import BASIC_COLORS, COLOR_SYNONYMS
from retrieval.schema import normalise

# General retail English: a word shoppers use → the word catalogs usually use.
KIND_SYNONYMS = {
    "tshirt": "tee",
    "t-shirt": "tee",
    "shirt": "tee",
    "tees": "tee",
    "trouser": "pant",
    "trousers": "pant",
    "jogger": "pant",
    "legging": "pant",
    "leggings": "pant",
    "sweater": "sweatshirt",
    "jumper": "sweatshirt",
    "hoody": "hoodie",
    "coat": "jacket",
    "windbreaker": "jacket",
    "parka": "jacket",
    "anorak": "jacket",
    "rucksack": "bag",
    "backpack": "bag",
    "duffel": "bag",
    "duffle": "bag",
    "tote": "bag",
    "tanktop": "tank",
    "singlet": "tank",
    "bra": "bra",
    "timepiece": "watch",
}
DEPARTMENT_WORDS = {
    "men": "men",
    "mens": "men",
    "man": "men",
    "male": "men",
    "guys": "men",
    "guy": "men",
    "gentlemen": "men",
    "boyfriend": "men",
    "husband": "men",
    "women": "women",
    "womens": "women",
    "woman": "women",
    "ladies": "women",
    "lady": "women",
    "female": "women",
    "girlfriend": "women",
    "wife": "women",
}
SIZE_WORDS = {
    "extra small": "XS",
    "x-small": "XS",
    "small": "S",
    "medium": "M",
    "large": "L",
    "extra large": "XL",
    "x-large": "XL",
}


def singular(word: str) -> str:
    """A rough English singular: 'jackets' → 'jacket', 'watches' → 'watch', 'hoodies' →
    'hoodie', 'fitness' stays. Enough to match a shopper's word to a catalog's word."""
    if word.endswith(("ss", "us", "is")) or len(word) <= 3:
        return word
    for suffix in ("sses", "shes", "ches", "xes"):
        if word.endswith(suffix):
            return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.casefold())


@dataclass
class Vocabulary:
    colors: list[str]  # catalog colour values, display case
    sizes: list[str]
    categories: list[str]  # normalised sub-paths ("men/tops/jackets", "jackets" …)
    attributes: dict[str, list[str]]  # key → normalised values
    kind_terms: dict[str, list[str]] = field(default_factory=dict)  # word → category segments
    departments: list[str] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)  # segments with sub-categories ("tops")

    @classmethod
    def from_index_vocabulary(cls, vocab: dict[str, list[str]]) -> Vocabulary:
        categories = vocab.get("category", [])
        attributes = {
            k: sorted(set(v)) for k, v in vocab.items() if k not in ("category", "color", "size")
        }
        segments = {c for c in categories if "/" not in c}
        inner = {seg for c in categories for seg in c.split("/")[1:]}
        tops = segments - inner  # never below another segment: "men", "gear"
        kind_terms: dict[str, list[str]] = {}
        for segment in sorted(segments - tops):
            for word in re.split(r"\s*(?:&|and|,|\s)\s*", segment):
                if len(word) > 2:
                    kind_terms.setdefault(singular(word), []).append(segment)
        departments = sorted(tops & set(DEPARTMENT_WORDS.values()))
        return cls(
            colors=vocab.get("color", []),
            sizes=vocab.get("size", []),
            categories=categories,
            attributes=attributes,
            kind_terms=kind_terms,
            departments=departments,
            parents={seg for c in categories for seg in c.split("/")[:-1]},
        )

    # ---- single-word look-ups ------------------------------------------------------------
    @functools.cached_property
    def _color_words(self) -> dict[str, str]:
        out = {normalise(c): c for c in self.colors if " " not in c}
        for basic in BASIC_COLORS:
            out.setdefault(basic, basic)
        for word, basic in COLOR_SYNONYMS.items():
            out.setdefault(word, basic)
        out["grey"] = out.get("gray", "gray")
        return out

    def color(self, word: str) -> str | None:
        return self._color_words.get(word)

    def kind(self, word: str) -> list[str]:
        """Category segments a word names: 'hoodies' → ['hoodies & sweatshirts']."""
        base = singular(word)
        base = KIND_SYNONYMS.get(word, KIND_SYNONYMS.get(base, base))
        found = self.kind_terms.get(base, [])
        if not found and base.endswith("y"):  # "hoody" → "hoodie"
            found = self.kind_terms.get(base[:-1] + "ie", [])
        if not found and len(base) >= 5:  # a typo: "jakcet", "hoddie"
            close = difflib.get_close_matches(base, list(self.kind_terms), n=1, cutoff=0.82)
            found = self.kind_terms[close[0]] if close else []
        return found

    def department(self, word: str) -> str | None:
        dept = DEPARTMENT_WORDS.get(word.replace("'", ""))  # "men's" → "mens" → men
        return dept if dept in self.departments else None

    def attribute(self, word: str) -> list[tuple[str, str]]:
        """(key, value) pairs whose value is this word (materials, features …)."""
        base = singular(word)
        return [
            (k, v)
            for k, values in self.attributes.items()
            for v in values
            if v in (word, base) and v not in ("yes", "no")
        ]

    def size(self, token: str) -> str | None:
        for size in self.sizes:
            if token == size or token.casefold() == size.casefold() and len(size) > 1:
                return size
        return None

    def size_word(self, phrase: str) -> str | None:
        value = SIZE_WORDS.get(phrase)
        return value if value in self.sizes else None

    def is_catalog_word(self, word: str) -> bool:
        return bool(
            self.color(word) or self.kind(word) or self.department(word) or self.attribute(word)
        )
