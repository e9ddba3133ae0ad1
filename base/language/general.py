"""The English word lists of `data/english.toml`, loaded once per process."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

DATA = Path(__file__).parent / "data"


class Currency(BaseModel):
    symbols: list[str]
    words: list[str]
    write: str
    decimals: int = 2


class UnitDimension(BaseModel):
    base: str
    factors: dict[str, float]


class Bounds(BaseModel):
    max_strict: list[str]
    max_inclusive: list[str]
    min_strict: list[str]
    min_inclusive: list[str]
    max_after: list[str]
    min_after: list[str]
    around: list[str]
    between: list[str]
    cheaper: list[str]
    pricier: list[str]
    than: list[str]


class PixelRule(BaseModel):
    """Renames the pixels matching every bound given (min inclusive, max exclusive)."""

    name: str
    chromatic: bool | None = None
    hue_min: float | None = None
    hue_max: float | None = None
    saturation_min: float | None = None
    saturation_max: float | None = None
    value_min: float | None = None
    value_max: float | None = None


class PixelNaming(BaseModel):
    unsaturated: str
    chromatic_saturation: float
    hue_bands: list[tuple[float, str]]  # (upper bound of the band's hue, name), ascending
    rules: list[PixelRule]


class Colors(BaseModel):
    keys: list[str]
    basic: list[str]
    shades: dict[str, str]
    pixels: PixelNaming

    @model_validator(mode="after")
    def _pixel_names_are_basic(self) -> Colors:
        named = {self.pixels.unsaturated, *(n for _, n in self.pixels.hue_bands)}
        unknown = (named | {r.name for r in self.pixels.rules}) - set(self.basic)
        if unknown:
            raise ValueError(f"colors.pixels names colours not in colors.basic: {sorted(unknown)}")
        return self


class GeneralLanguage(BaseModel):
    negators: frozenset[str]
    negation_skip: frozenset[str]
    negation_stop: frozenset[str]
    absent_after: frozenset[str] = Field(default_factory=frozenset)
    filler: frozenset[str]
    question_words: frozenset[str]
    ordinals: dict[str, int]
    numbers: dict[str, float]
    bounds: Bounds
    currencies: dict[str, Currency]
    units: dict[str, UnitDimension]
    colors: Colors
    sizes: dict[str, str]
    audience: dict[str, list[str]]
    synonyms: list[list[str]]
    invariant: frozenset[str]
    materials: frozenset[str]
    demonyms: dict[str, str] = Field(default_factory=dict)
    contact_labels: frozenset[str] = Field(default_factory=frozenset)
    product_nouns: frozenset[str] = Field(default_factory=frozenset)

    @functools.cached_property
    def audience_of(self) -> dict[str, str]:
        """word → audience group (each word of the language data's `[audience]` lists)."""
        return {w: group for group, ws in self.audience.items() for w in ws}

    @functools.cached_property
    def synonyms_of(self) -> dict[str, list[str]]:
        """word → the other words of its synonym groups (as folded phrases)."""
        out: dict[str, list[str]] = {}
        for group in self.synonyms:
            for w in group:
                out.setdefault(w, []).extend(x for x in group if x != w)
        return out

    @functools.cached_property
    def color_of(self) -> dict[str, str]:
        """colour word → basic colour (a shade → its basic colour; a basic colour → itself)."""
        return {**{b: b for b in self.colors.basic}, **self.colors.shades}

    @functools.cached_property
    def unit_of(self) -> dict[str, tuple[str, float]]:
        """unit spelling → (dimension, factor to the dimension's base unit)."""
        return {
            u.casefold(): (dim, f) for dim, d in self.units.items() for u, f in d.factors.items()
        }

    def is_color_key(self, key: str) -> bool:
        from .text import normalise

        return normalise(key).replace("_", " ") in self.colors.keys


@functools.cache
def language() -> GeneralLanguage:
    raw = tomllib.loads((DATA / "english.toml").read_text(encoding="utf-8"))
    nouns = [
        line.strip().casefold()
        for line in (DATA / "product_nouns.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    raw["filler"] = raw["filler"].split()
    return GeneralLanguage(**raw, product_nouns=frozenset(nouns))


class Phrasings(BaseModel):
    """English phrasings as regular expressions and small word sets (`data/phrasings.toml`)."""

    patterns: dict[str, str]
    case_sensitive: frozenset[str] = Field(default_factory=frozenset)
    words: dict[str, frozenset[str]]
    counts: dict[str, int]

    @model_validator(mode="after")
    def _known_names(self) -> Phrasings:
        unknown = self.case_sensitive - set(self.patterns)
        if unknown:
            raise ValueError(f"case_sensitive names no pattern: {sorted(unknown)}")
        return self

    @property
    def ampersand(self) -> str:
        """The word "&" is read as ("and")."""
        (word,) = self.words["ampersand"]
        return word

    def pattern(self, name: str, **pieces: str) -> re.Pattern[str]:
        """The pattern `name`, its `<<piece>>` placeholders filled from `pieces`."""
        source = "".join(line.strip() for line in self.patterns[name].splitlines())
        for piece, value in pieces.items():
            source = source.replace(f"<<{piece}>>", value)
        if "<<" in source and ">>" in source.split("<<", 1)[1]:
            raise ValueError(f"pattern {name!r} has a placeholder left unfilled: {source}")
        return re.compile(source, 0 if name in self.case_sensitive else re.IGNORECASE)


@functools.cache
def phrasings() -> Phrasings:
    return Phrasings(**tomllib.loads((DATA / "phrasings.toml").read_text(encoding="utf-8")))
