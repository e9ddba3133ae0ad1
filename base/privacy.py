"""Privacy: what identifies a person is redacted from free text before any store keeps it
(e-mail addresses, bank account, card-like and phone numbers, street addresses, birth
dates), and ids are kept as keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import re

from base.language.general import language, phrasings

# Every pattern runs in linear time on any text: a match can only start where a run of its
# characters starts (the look-behinds), and every repetition is bounded or possessive, so a
# 100k-character message costs milliseconds, not the seconds a backtracking pattern takes.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}+@[\w-]{1,63}+(?:\.[\w-]{1,63}+){1,8}+")
# 13-19 digits in groups: card-like numbers, redacted before phone numbers take their digits
CARD = re.compile(r"(?<![\w$.,])\d(?:[ -]?+\d){12,18}+(?![\w]|[.,]\d)")
# 7-15 digits with the usual separators, optionally +country code: phone numbers, not prices
# ("$1,299.99") nor sizes ("32x34")
PHONE = re.compile(r"(?<![\w$.,+])\+?\d(?:[ ().-]{0,3}+\d){6,14}+(?![\w]|[.,]\d)")


# International bank account numbers: a country code, two check digits, then 11-30 letters
# and digits, written whole or in groups of four ("GB29NWBK…", "DE89 3704 0044 0532 0130 00")
IBAN = re.compile(
    r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?+[A-Z0-9]{4}){2,7}+(?:[ ]?+[A-Z0-9]{1,4})?+(?![\w])"
)
_P = phrasings()
# a house number, one to four words, a street type ending the name, then an optional
# ", town" and postcode: "221B Baker Street, London NW1 6XE", "12 Oak Lane 60612"
POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4,6}(?:-\d{4})?)"
STREET_TYPES = _P.pattern("street_type").pattern  # the words that end a street's name
STREET = re.compile(  # on one line: spaces, never a line break, between its words
    r"(?<![\w])\d{1,5}[A-Za-z]?,?[ ](?:[A-Za-z'.-]{1,30}[ ]){1,4}(?:"
    + STREET_TYPES
    + r")\b\.?(?:,?[ ](?:[A-Za-z'.-]{1,30}[ ]?){0,3}?,?[ ]?"
    + POSTCODE
    + r"(?![\w]))?(?=[ ]*(?:$|[,.;:!?)\n]|[ ](?:"
    + _P.pattern("after_street").pattern
    + r")\b))",
    re.IGNORECASE | re.MULTILINE,
)
# a date after the words that say it is a birth date: "born 12/03/1985", "DOB: 1985-03-12"
BIRTH = re.compile(
    _P.pattern("birth_label").pattern
    + r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\s?[A-Za-z]{3,9}\.?,?\s?\d{2,4}|"
    r"[A-Za-z]{3,9}\.?\s\d{1,2}(?:" + _P.pattern("ordinal_suffix").pattern + r")?,?\s\d{2,4})",
    re.IGNORECASE,
)


def _iban(m: re.Match) -> str:
    """A bank account number whose check digits hold (ISO 13616: mod 97 is 1); anything
    else shaped like one — a product code, "IP68 WATERPROOF" — stays."""
    compact = m.group(0).replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return m.group(0)
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return TAGS[3] if int(digits) % 97 == 1 else m.group(0)


def redact(text: str) -> str:
    """Remove what identifies a person from free text before it is stored."""
    return redacted(text)[0]


TAGS = ("[email]", "[card]", "[phone]", "[iban]", "[address]", "[birthdate]")


def redacted(text: str) -> tuple[str, int]:
    """The text with e-mail addresses, bank account, card-like and phone numbers, street
    addresses and birth dates replaced by their tags (`TAGS`), and how many went."""
    text, emails = EMAIL.subn(TAGS[0], text)
    before = text.count(TAGS[3])
    text = IBAN.sub(_iban, text)  # only those whose check digits hold
    ibans = text.count(TAGS[3]) - before
    text, births = BIRTH.subn(TAGS[5], text)
    text, streets = STREET.subn(TAGS[4], text)
    text, cards = CARD.subn(TAGS[1], text)
    text, phones = PHONE.subn(TAGS[2], text)
    return text, emails + ibans + births + streets + cards + phones


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
