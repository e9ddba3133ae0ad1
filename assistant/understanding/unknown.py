"""Which words of a turn are accounted for, which become the free-text need, which nobody
knows, and which name a kind of product this shop does not sell."""

from __future__ import annotations

from base.language.general import language, phrasings
from base.language.money import currency_words

from .words import CatalogWords, Message, Token, is_product_noun


def account(
    tokens: list[Token],
    consumed: set[int],
    accounted: set[int],
    negated: set[int],
    words: CatalogWords,
) -> tuple[list[int], list[str], list[str]]:
    """(need tokens, words nobody knows, doubts). A word is accounted for when it became a
    constraint, is one of the catalog's words, or is a word of the general layer (filler,
    negators, comparatives, units, currencies, audiences, product nouns)."""
    lang = language()
    known = (
        lang.filler
        | lang.negators
        | lang.question_words
        | set(lang.ordinals)
        | set(lang.numbers)
        | currency_words()
        | set(lang.unit_of)
        | set(lang.audience_of)
        | {
            "than",
            "more",
            "less",
            "cheaper",
            "pricier",
            "expensive",
            "cheap",
            "price",
            "budget",
            "size",
            "colour",
            "color",
            "either",
            "too",
            "instead",
            "then",
            "same",
        }
    )
    need, unknown, doubts = [], [], []
    for i, t in enumerate(tokens):
        if i in consumed:
            continue
        catalog = words.is_catalog_word(t.term) or i in accounted
        if (
            i in negated
            and not catalog
            and t.text not in known
            and t.text not in lang.negation_skip
        ):
            doubts.append(f"negated word {t.text!r} not in the catalog's words")
        if t.text.isdigit():
            doubts.append(f"number {t.text!r} not read")
            continue
        if t.text in known or t.text in phrasings().words["conjunction"]:
            continue
        if i not in negated:
            need.append(i)
        if not catalog and not is_product_noun((t.term,)):
            unknown.append(t.text)
    return need, unknown, doubts


def unsold_kinds(tokens: list[Token], need: list[int], words: CatalogWords) -> list[str]:
    """Product nouns asked for (from the general product-noun list) that this catalog names
    nowhere as a kind: the shop does not sell them. A noun its titles use (a modifier word
    of a product's name) is searched for instead."""
    out = []
    for n, i in enumerate(need):
        t = tokens[i]
        pair = (tokens[need[n - 1]].term, t.term) if n and need[n - 1] == i - 1 else None
        for terms in ([pair] if pair else []) + [(t.term,)]:
            if (
                is_product_noun(terms)
                and not any(
                    r.kind == "category"
                    for r in words.table.get(terms, []) + words.synonyms.get(terms, [])
                )
                and not all(words.lexicon.title_words.get(x) for x in terms)
            ):
                end = i + 2 if n + 1 < len(need) and need[n + 1] == i + 1 else i + 1
                # "phone cases": the noun phrase as the shopper said it
                out.append(" ".join(tokens[j].text for j in range(i - len(terms) + 1, end)))
                break
    return list(dict.fromkeys(out))


OTHER_LANGUAGES = ("fr", "de", "es", "it", "pt", "nl")


def foreign(message: str | Message) -> bool:
    """Most of the turn's words are more common in another language than in English
    ("je cherche des chaussures": French). wordfreq's frequency lists, one lookup a word."""
    from wordfreq import zipf_frequency

    toks = [t.text for t in Message.of(message).tokens if t.text.isalpha()]
    if not toks:
        return False

    def other(w: str) -> bool:
        en = zipf_frequency(w, "en")
        best = max(zipf_frequency(w, lang) for lang in OTHER_LANGUAGES)
        return best >= en + 1.0 or (en < 1.5 and best >= 2.5)

    return sum(other(w) for w in toks) >= 0.5 * len(toks)
