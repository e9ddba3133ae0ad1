"""The one money reader and writer: amounts with a currency symbol, code or word, in
shopper text, catalog cells and LLM drafts ("$60", "60 dollars", "€12.50", "12,50 €",
"Rs 499", "₹1,299"), and prices written back in the shop's currency."""

from __future__ import annotations

import functools
import re

from pydantic import BaseModel

from .general import language

AMOUNT = r"(\d{1,3}(?:[,.\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"


class MoneyMention(BaseModel):
    amount: float
    currency: str | None  # ISO code; None: a bare number read as money by its context
    start: int
    end: int
    text: str


def parse_amount(raw: str) -> float:
    """'1,299.00' / '1.299,00' / '12,50' / '12.5' → a float. A comma or point followed by
    exactly three digits groups thousands; otherwise the last one is the decimal mark."""
    s = raw.strip().replace("\u202f", "").replace(" ", "")
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in s or "." in s:
        mark = "," if "," in s else "."
        head, _, tail = s.rpartition(mark)
        if len(tail) == 3 and head and (s.count(mark) > 1 or mark == ","):
            s = s.replace(mark, "")  # 1,299 and 1.299.000: thousands
        else:
            s = head.replace(mark, "") + "." + tail
    return float(s)


@functools.cache
def _patterns() -> tuple[re.Pattern, dict[str, str]]:
    lang = language()
    marks: dict[str, str] = {}  # spelling (folded) → code
    for code, cur in lang.currencies.items():
        for s in [*cur.symbols, *cur.words, code.casefold()]:
            marks.setdefault(s.casefold(), code)

    def alt(items):
        parts = []
        for s in sorted(items, key=len, reverse=True):
            e = re.escape(s)
            parts.append(e + r"(?![a-z])" if s[-1].isalpha() else e)
        return "|".join(parts)

    before = alt([m for m in marks if not m[0].isalpha() or len(m) <= 4])
    after = alt(marks)
    pattern = re.compile(
        rf"(?<![\w.,])(?P<pre>{before})\s?{AMOUNT}(?![\d])|"
        rf"(?<![\w.,]){AMOUNT}\s?(?P<post>{after})",
        re.I,
    )
    return pattern, marks


def find_money(text: str) -> list[MoneyMention]:
    """Amounts that carry a currency mark ("$60", "60 euros", "eur 12")."""
    pattern, marks = _patterns()
    out = []
    for m in pattern.finditer(text):
        mark = (m.group("pre") or m.group("post") or "").casefold()
        raw = m.group(2) if m.group("pre") else m.group(3)
        try:
            amount = parse_amount(raw)
        except ValueError:
            continue
        out.append(
            MoneyMention(
                amount=amount,
                currency=marks.get(mark),
                start=m.start(),
                end=m.end(),
                text=m.group(0),
            )
        )
    return out


def currency_words() -> frozenset[str]:
    """Every folded spelling of a currency ("$", "euros", "bucks" …)."""
    return frozenset(_patterns()[1])


def format_money(amount: float | None, currency: str = "USD") -> str:
    if amount is None:
        return "price not listed"
    cur = language().currencies.get(currency)
    if cur is None:
        return f"{amount:,.2f} {currency}"
    return f"{cur.write}{amount:,.{cur.decimals}f}"


def format_amount(amount: float, currency: str = "USD") -> str:
    """A bound as a shopper says it: "$60", "€4.50" (no trailing zeros)."""
    cur = language().currencies.get(currency)
    symbol = cur.write if cur else ""
    text = f"{amount:,.2f}".rstrip("0").rstrip(".")
    return f"{symbol}{text}" if cur else f"{text} {currency}"
