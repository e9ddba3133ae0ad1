"""The one reader of quantities with units: "500 g", "1L", "6 x 330 ml", "55-inch", '32"',
"16GB", "2 kg", "70%", "6-pack". Each becomes a value in its dimension's base unit (g, ml,
cm, GB …, from `data/english.toml`), so "1 kg" and "1000 g" compare equal. Written here
rather than with `pint`: shop pack sizes need multipacks ("6 × 330 ml"), glued units ("16GB")
and shop spellings ("ltr", "gigs") that a physics library does not read, and the unit table
is a data file a shop can extend."""

from __future__ import annotations

import functools
import re

from pydantic import BaseModel

from .general import language, phrasings
from .money import parse_amount


class Quantity(BaseModel):
    value: float  # in the dimension's base unit, for one item of a multipack
    dimension: str  # "mass", "volume", "length", "data", "count", …
    unit: str  # as written ("kg", "inch")
    amount: float  # the number as written
    count: int | None = None  # "6 x 330 ml" → 6
    start: int = 0
    end: int = 0

    def label(self) -> str:
        return describe(self.value, self.dimension, self.unit, self.amount)


@functools.cache
def _pattern() -> re.Pattern:
    units = sorted(language().unit_of, key=len, reverse=True)
    alt = "|".join(re.escape(u) + (r"(?![a-z])" if u[-1].isalpha() else "") for u in units)
    return re.compile(
        r"(?<![\w.,])(?:(?P<count>\d{1,3})\s*[x×*]\s*)?"
        r"(?P<num>\d+(?:[.,]\d+)?)(?P<gap>\s?-?\s?)(?P<unit>" + alt + r")"
        r"|" + phrasings().pattern("pack_of").pattern + r"(?P<packof>\d{1,3})\b"
        r"|(?<![\w.,])(?P<packn>\d{1,3})\s?-?\s?(?:"
        + phrasings().pattern("pack_after").pattern
        + r")\b",
        re.I,
    )


def find_quantities(text: str) -> list[Quantity]:
    out = []
    for m in _pattern().finditer(text):
        if m.group("packof") or m.group("packn"):
            n = int(m.group("packof") or m.group("packn"))
            out.append(
                Quantity(
                    value=n, dimension="count", unit="pack", amount=n, start=m.start(), end=m.end()
                )
            )
            continue
        unit = m.group("unit").casefold()
        if unit == "in" and m.group("gap"):  # "size 10 in <colour>" is no length
            continue
        dim, factor = language().unit_of[unit]
        try:
            amount = parse_amount(m.group("num"))
        except ValueError:
            continue
        count = int(m.group("count")) if m.group("count") else None
        out.append(
            Quantity(
                value=amount * factor,
                dimension=dim,
                unit=m.group("unit"),
                amount=amount,
                count=count,
                start=m.start(),
                end=m.end(),
            )
        )
    return out


def parse_quantity(value: str) -> Quantity | None:
    """The quantity a facet value states ("13 inch", "8GB", "240GB SSD", "6 × 330 ml")."""
    found = find_quantities(value)
    return found[0] if found else None


def describe(
    value: float, dimension: str, unit: str | None = None, amount: float | None = None
) -> str:
    """A value back in words: in the unit it was written in when known, else the base."""
    lang = language()
    dim = lang.units.get(dimension)
    if unit and dim and unit.casefold() in {u.casefold() for u in dim.factors}:
        factor = lang.unit_of[unit.casefold()][1]
        number = amount if amount is not None else value / factor
        sep = "" if unit in ('"', "%") else " "
        return f"{number:g}{sep}{unit}"
    return f"{value:g} {dim.base if dim else ''}".strip()
