"""Why each shown product fits: the shopper's needs matched to the product's catalog facts.

A product's facts are numbered (its price, each facet, each sentence of its description,
its name, its rating), the same list the LLM is given, so a reason can cite the facts it
uses. The needs come from the dialogue state: the values the filters enforce ("Blue",
"vegan", "500 g", "under €4") and the free words of the need ("warm", "hiking"). Each need
is met by the facts that share its word, a light stem of it ("warming", "hiker's") or a
synonym, and the reason says which need each fact meets, and which needs nothing in the
catalog speaks to. Nothing is invented: apart from the joining words ("in", "under",
"nothing listed about"), a reason is catalog values, catalog sentences and the shopper's
own need words. Matching is by words on purpose: a looser association ("warm" for a
sentence about cold weather) would be a claim the catalog does not make."""

from __future__ import annotations

import functools
import re

from base.language.general import language
from base.language.quantities import find_quantities
from base.language.text import normalise, stem, term, words
from ranking.rank import RankedItem
from retrieval.facets import value_matches
from retrieval.kinds import title_kind
from retrieval.lexicon import Lexicon
from retrieval.schema import Product, Variant

from .chips import price_label
from .records import DialogueState, Explanation, Fact, Need
from .wording import clip, item_price, money

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"])|\n+|•")
QUOTE_CHARS = 90  # a quoted sentence is cut here, at a word boundary


@functools.lru_cache(maxsize=16384)  # the same descriptions, every turn
def _sentences(description: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The description's sentences worth stating, each with the colour words it names."""
    colour_words = language().color_of
    out = []
    for sentence in SENTENCE.split(description):
        sentence = sentence.strip(" .")
        if len(sentence) > 3:
            out.append((sentence, frozenset(w for w in words(sentence) if w in colour_words)))
    return tuple(out)


def product_facts(item: RankedItem) -> list[Fact]:
    """The product's facts, numbered: price, facets (the matching variants' options), the
    description's sentences (none that names a colour the listing does not show), the name,
    the rating."""
    p = item.product
    shown_variants = item.matching_variants or p.purchasable_variants()
    facts = [Fact(n=1, key="price", text=f"price: {money(item_price(item), p.currency)}")]

    def add(key: str, text: str, values: list[str] | None = None) -> None:
        # built from typed parts, so not validated again (a reply builds some 100 a turn)
        facts.append(
            Fact.model_construct(n=len(facts) + 1, key=key, text=text, values=values or [])
        )

    # the shown variants' options in one pass (Product.values scans every variant per key)
    options: dict[str, dict[str, None]] = {}
    for v in shown_variants:
        for k, o in v.options.items():
            options.setdefault(normalise(k), {})[o] = None
    option_keys = set(options) | {normalise(k) for k in p.variant_options}
    attributes: dict[str, list[str]] = {}
    for k, vs in p.attributes.items():
        attributes.setdefault(normalise(k), []).extend(v for v in vs if v)
    for key in p.facet_keys():
        k = normalise(key)
        values = list(options.get(k, {})) if k in option_keys else attributes.get(k, [])
        if not values or values == ["no"]:
            continue
        name = key.replace("_", " ")
        add(key, name if values == ["yes"] else f"{name}: {', '.join(values[:6])}", values)
    shown = {o.casefold() for v in shown_variants for o in v.options.values()}
    for sentence, colours in _sentences(p.description):
        if not (shown and colours - shown):
            add("description", sentence)
    add("name", f"name: {p.title}")
    if p.rating:
        add("rating", f"rating: {p.rating:.1f}/5 ({p.review_count} reviews)")
    return facts


def needs_of(state: DialogueState, lexicon: Lexicon) -> list[Need]:
    """What the shopper asked for, in the order a reason names it: enforced values, then
    quantities, then the need's own words (not the kind, not a value already counted),
    then the price."""
    lang = language()
    f = state.filters
    color_keys = {k.casefold() for k in lexicon.color_keys()}
    needs = [
        Need(
            label=("in " if key.casefold() in color_keys else "") + " or ".join(values),
            kind="value",
            key=key,
            values=values,
        )
        for key, values in f.facets.items()
    ]
    needs += [Need(label=q.label, kind="quantity", key=",".join(q.keys)) for q in f.quantities]
    said = {term(w) for vs in f.facets.values() for v in vs for w in words(v)}
    said |= {term(w) for q in f.quantities for w in words(q.label)}
    said |= {term(w) for vs in f.exclude_facets.values() for v in vs for w in words(v)}
    said |= {term(w) for c in state.categories for w in words(c)}
    skip = lang.filler | lang.negators | lang.question_words
    for w in dict.fromkeys(words(state.need)):
        if len(w) > 2 and not w.isdigit() and w not in skip and term(w) not in said:
            needs.append(Need(label=w, kind="word"))
    if not f.price.is_open():
        needs.append(Need(label=price_label(f, lexicon.currency), kind="price"))
    return needs


def _word_forms(word: str, lexicon: Lexicon) -> set[str]:
    """A need word's stems: itself and its synonyms (the shop's own, then general ones)."""
    groups = [{k, *alts} for k, alts in lexicon.synonyms.items()] + [
        set(g) for g in language().synonyms
    ]
    said = {word} | {w for g in groups if word in g for w in g}
    return {stem(w) for s in said for w in words(s)}


def speaks_of(word: str, text: str, lexicon: Lexicon) -> bool:
    """Whether `text` speaks of the need word `word` (or a synonym of it)."""
    return _speaks_of(_word_forms(word, lexicon), text)


def _speaks_of(forms: set[str], text: str) -> bool:
    """Whether a text has one of the stems: whole, or as the start of a longer word when
    the stem is long enough not to be a chance prefix ("warm" in "warmth")."""
    return _has_stem(forms, _stems(text))


@functools.lru_cache(maxsize=8192)
def _stems(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(stem(w) for w in words(text)))


def _has_stem(forms: set[str], stems: tuple[str, ...]) -> bool:
    long = [f for f in forms if len(f) >= 4]
    return any(s in forms or any(s.startswith(f) for f in long) for s in stems)


def match_needs(item: RankedItem, facts: list[Fact], needs: list[Need], lexicon: Lexicon):
    """need label → the facts that show it; and the need words nothing shows."""
    p = item.product
    own_kind = {term(w) for w in words(p.category.split("/")[-1])} if p.category else set()
    own_kind |= {term(k) for k in [title_kind(p.title)] if k}
    met: dict[str, list[int]] = {}
    missing: list[str] = []
    for need in needs:
        if need.kind == "price":
            met[need.label] = [1]
        elif need.kind in ("value", "quantity"):
            keys = [k for k in need.key.split(",") if k]
            hits = [
                f.n
                for f in facts
                if f.values
                and any(f.key.casefold() == k.casefold() for k in keys)
                and (
                    need.kind == "quantity"
                    or any(value_matches(f.key, v, w) for v in f.values for w in need.values)
                )
            ]
            met[need.label] = hits[:1] or ([n for n in [_named_fact(facts)] if n])
        elif term(need.label) in own_kind:
            continue  # its own kind is no reason for it
        else:
            forms = _word_forms(need.label, lexicon)
            hits = [f for f in facts if _speaks_of(forms, f.text)]
            # a facet says it most plainly, then the shortest sentence, then the name
            rank = {"description": 1, "name": 2, "rating": 3}
            hits.sort(key=lambda f: (rank.get(f.key, 0), len(f.text)))
            if hits:
                met[need.label] = [hits[0].n]
            else:
                missing.append(need.label)
    return met, missing


def _named_fact(facts: list[Fact]) -> int | None:
    """A quantity with no facet of its own is stated in the product's name."""
    return next((f.n for f in facts if f.key == "name"), None)


def _clause(labels: list[str], fact: Fact, needs: dict[str, Need]) -> str:
    """ "in Blue", "vegan (dietary)", "storage: 16GB", "€2.79, under €4", "warm — climate:
    Warm", "hiking: “<sentence>”"."""
    first = needs[labels[0]]
    if first.kind == "price":
        return first.label  # the price itself is on the product's line
    if first.kind == "quantity":
        if fact.key == "name":  # no facet of its own: the name states it
            stated = [q.label() for q in find_quantities(fact.text)]
            return ", ".join(stated) or first.label
        return fact.text
    if first.kind == "value":
        # the values this product has of those asked ("Spain or Argentina": its Argentina)
        said = [
            " or ".join(held)
            if (
                held := [
                    w
                    for w in needs[x].values
                    if any(value_matches(fact.key, v, w) for v in fact.values)
                ]
            )
            else " or ".join(needs[x].values)
            for x in labels
        ]
        if language().is_color_key(first.key):
            return " and ".join(f"in {x}" for x in said)  # "in Blue": a colour names itself
        if fact.key == "name":
            return " and ".join(said)
        return " and ".join(f"{x} ({first.key.replace('_', ' ')})" for x in said)
    said = " and ".join(labels)
    if fact.key == "description":
        return f"{said}: “{_quote(fact.text)}”"
    if fact.key == "name":
        return f"{said}: in its name"
    shown = [v for v in fact.values if {term(w) for w in words(said)} & {term(w) for w in words(v)}]
    key = fact.key.replace("_", " ")
    if fact.values == ["yes"]:
        return f"{said}: {key}"
    return f"{said}: {key} {', '.join(shown or fact.values[:3])}"


def realise(exp: Explanation, needs: list[Need], taken: set[str]) -> str:
    """The reason as one line: the need words met, each with the fact that shows it; the
    values asked for; the price bound; then what the catalog says nothing about. A product
    that meets no need word, or whose reason another product already has, also gets a
    sentence of its own description. `taken`: reasons other products already have."""
    by_label = {n.label: n for n in needs}
    order = {"word": 0, "value": 1, "quantity": 2, "price": 3}
    groups: dict[tuple[int, str], list[str]] = {}  # needs of one kind that one fact meets
    for label, ns in sorted(exp.met.items(), key=lambda kv: order[by_label[kv[0]].kind]):
        if ns:
            groups.setdefault((ns[0], by_label[label].kind), []).append(label)
    clauses = [_clause(labels, exp.fact(n), by_label) for (n, _), labels in groups.items()]
    missing = [f"nothing listed about {' or '.join(exp.missing)}"] if exp.missing else []
    text = _capital("; ".join([*clauses, *missing]))
    if not text or text in taken or not any(by_label[x].kind == "word" for x in exp.met):
        used = " ".join(taken)
        # a sentence of its description, else a facet: what it is, said in its own words
        spare = [
            f
            for f in exp.facts
            if f.key not in ("price", "name", "rating")
            and f.n not in exp.used
            and _quote(f.text) not in used
        ]
        spare.sort(key=lambda f: f.key != "description")
        if spare:
            exp.extra = [spare[0].n]
            words_met = any(by_label[x].kind == "word" for x in exp.met)
            quote = [_quote(spare[0].text)]
            text = "; ".join(
                [*clauses, *quote, *missing] if words_met else [*quote, *clauses, *missing]
            )
    return _capital(text or exp.facts[-1].text)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _quote(sentence: str) -> str:
    return clip(sentence, QUOTE_CHARS).rstrip(".")


def explain(items: list[RankedItem], state: DialogueState, lexicon: Lexicon) -> list[Explanation]:
    """One explanation per product, in order, no two alike."""
    needs = needs_of(state, lexicon)
    out: list[Explanation] = []
    taken: set[str] = set()
    for item in items:
        facts = product_facts(item)
        met, missing = match_needs(item, facts, needs, lexicon)
        exp = Explanation(product_id=item.product.id, facts=facts, met=met, missing=missing)
        exp.text = realise(exp, needs, taken)
        taken.add(exp.text)
        out.append(exp)
    return out


def numbered_facts(exp: Explanation, limit: int = 12) -> str:
    """ "(1) price: $57.00; (2) climate: Warm; …": the facts the LLM may cite, the ones that
    meet a need first."""
    first = [f for f in exp.facts if f.n in exp.used]
    rest = [f for f in exp.facts if f.n not in exp.used]
    chosen = sorted([*first, *rest][:limit], key=lambda f: f.n)
    return "; ".join(f"({f.n}) {clip(f.text, 160)}" for f in chosen)


def cited_only(item: RankedItem, facts: list[Fact]) -> Product:
    """The product as the cited facts alone describe it, for checking a reason exactly: a
    claim must be in one of the facts it cites, not merely somewhere in the catalog."""
    p = item.product
    keys = {f.key for f in facts if f.values}
    option_keys = {k for v in p.variants for k in v.options} | set(p.variant_options)
    variants = [
        Variant(
            options={k: o for k, o in v.options.items() if k in keys},
            price=v.price,
            available=v.available,
        )
        for v in (item.matching_variants or p.purchasable_variants())
    ]
    return Product(
        id=p.id,
        title=p.title,
        price=item_price(item),
        list_price=p.list_price,
        currency=p.currency,
        category=p.category,
        description=". ".join(f.text for f in facts if f.key == "description"),
        attributes={f.key: f.values for f in facts if f.values and f.key not in option_keys},
        variants=variants,
        rating=p.rating if any(f.key == "rating" for f in facts) else None,
        review_count=p.review_count,
    )


def partial_note(exps: list[Explanation]) -> str:
    """What the products shown do not cover, said once for the reply: "None of these lists
    anything about hiking." / "Only [2] and [4] list anything about warm." """
    if len(exps) < 2:
        return ""
    wanted = list(dict.fromkeys(m for e in exps for m in e.missing))
    nowhere = [w for w in wanted if all(w in e.missing for e in exps)]
    lines = [f"None of these lists anything about {' or '.join(nowhere)}."] if nowhere else []
    for w in wanted:
        if w not in nowhere:
            have = [f"[{i}]" for i, e in enumerate(exps, 1) if w not in e.missing]
            which = have[0] if len(have) == 1 else ", ".join(have[:-1]) + " and " + have[-1]
            lines.append(f"Only {which} list{'s' if len(have) == 1 else ''} anything about {w}.")
    return " ".join(lines)
