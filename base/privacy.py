"""Privacy: what identifies a person is redacted from free text before any store keeps it
(e-mail addresses, card-like and phone numbers), and ids are kept as keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import re

from base.language.general import language

# Every pattern runs in linear time on any text: a match can only start where a run of its
# characters starts (the look-behinds), and every repetition is bounded or possessive, so a
# 100k-character message costs milliseconds, not the seconds a backtracking pattern takes.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}+@[\w-]{1,63}+(?:\.[\w-]{1,63}+){1,8}+")
# 13-19 digits in groups: card-like numbers, redacted before phone numbers take their digits
CARD = re.compile(r"(?<![\w$.,])\d(?:[ -]?+\d){12,18}+(?![\w]|[.,]\d)")
# 7-15 digits with the usual separators, optionally +country code: phone numbers, not prices
# ("$1,299.99") nor sizes ("32x34")
PHONE = re.compile(r"(?<![\w$.,+])\+?\d(?:[ ().-]{0,3}+\d){6,14}+(?![\w]|[.,]\d)")


def redact(text: str) -> str:
    """Remove what identifies a person from free text before it is stored."""
    return redacted(text)[0]


TAGS = ("[email]", "[card]", "[phone]")


def redacted(text: str) -> tuple[str, int]:
    """The text with e-mail addresses, card-like and phone numbers replaced by their tags
    (`TAGS`), and how many went."""
    text, emails = EMAIL.subn(TAGS[0], text)
    text, cards = CARD.subn(TAGS[1], text)
    text, phones = PHONE.subn(TAGS[2], text)
    return text, emails + cards + phones


def pseudonym(raw: str, salt: str) -> str:
    """A stable id that does not reveal the raw one (keyed hash, truncated)."""
    return hmac.new(salt.encode(), raw.encode(), hashlib.sha256).hexdigest()[:16]


def without_contact_details(text: str) -> str:
    """The redacted message with its tags gone, and the words that introduced them ("my
    email is", "call me on", "card"): left in, the reader would take "phone" or "card" for
    something the shopper wants. Split on white space, not tokenised: the text is rebuilt
    as written, only whole tagged spans and their labels leave."""
    labels = language().contact_labels
    kept: list[str] = []
    for word in text.split():
        if word.strip(",.;:!?()") in TAGS:
            while kept and kept[-1].strip(",.;:!?()").casefold() in labels:
                kept.pop()
            continue
        kept.append(word)
    return " ".join(kept)
