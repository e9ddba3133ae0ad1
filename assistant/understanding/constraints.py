"""From the spans the catalog's words name to hard constraints, or to free text.

- Kinds: in a run of kind words the last is the head ("<kind a> <kind b>" is a <kind b>);
  an earlier one stays a constraint only when the catalog files the head under it (a
  category above the head's), else it is free text. A kind implied by another (a category
  every product of the other lies under) is left out.
- Audiences ("for my <relative>") are a category where the catalog has one that combines with
  the kind ("<audience>/…/<kind>"), else a facet value that does ("<facet>: <audience>"),
  else free text.
- A facet value (brand, material, flavour, dietary …) is a hard constraint when the facet is
  listed among the products in question (the kind named, else everything: then by at least
  half of them), and is free text otherwise (a feature word, in a shop where only another
  kind lists features, is a searchable word).
- Colours are a constraint only where a colour facet covers the products in question, and
  never inside a product phrase the catalog names things by; they are always a hint for
  photo colours.
- Sizes count only when said as sizes ("size <code>", "in a <size word>", "an <code>")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from base.language.general import language, phrasings
from base.language.text import term
from retrieval.schema import SearchFilters

from ..records import ConstraintSet
from .catalog import CatalogView
from .words import CatalogWords, Reading, Span, Token


@dataclass
class Resolved:
    constraints: ConstraintSet = field(default_factory=ConstraintSet)
    consumed: set[int] = field(default_factory=set)  # tokens that became hard constraints
    kind_tokens: list[int] = field(default_factory=list)  # tokens naming the kinds
    accounted: set[int] = field(default_factory=set)  # tokens the catalog's words explain
    colors: list[str] = field(default_factory=list)  # basic colours to look for in photos


def resolve(
    text: str,
    tokens: list[Token],
    spans: list[Span],
    negated: set[int],
    words: CatalogWords,
    view: CatalogView,
    context: list[str],
) -> Resolved:
    """The turn's readings made hard constraints where the catalog bears them out, in
    order: kinds, audiences, facet values, "<thing>-free" values, colours, sizes."""
    t = _Turn(text, tokens, spans, negated, words, view, context)
    for s in spans:
        t.out.accounted.update(range(s.start, s.end))
        _head_kind(s, tokens, words, view)
    left = _kinds(t)  # spans whose category reading did not hold
    _audiences(t)
    scope = t.out.constraints.categories or context
    base = SearchFilters(categories=view.compose(scope)) if scope else SearchFilters()
    _facet_values(t, left, scope, base)
    _free_values(t, scope, base)
    _colors(t, scope)
    _sizes(t)
    t.out.colors = list(dict.fromkeys(t.out.colors))
    return t.out


@dataclass
class _Turn:
    """What resolving reads (the turn and the catalog) and what it fills (`out`)."""

    text: str
    tokens: list[Token]
    spans: list[Span]
    negated: set[int]
    words: CatalogWords
    view: CatalogView
    context: list[str]
    out: Resolved = field(default_factory=Resolved)

    def neg(self, s: Span) -> bool:
        """Negated, unless the value holds its own negator ("Without Lid" is positive)."""
        inside = range(s.start, s.end)
        negators = language().negators
        return any(i in self.negated for i in inside) and not any(
            self.tokens[i].text in negators for i in inside
        )

    def taken(self, s: Span) -> bool:
        return any(i in self.out.consumed for i in range(s.start, s.end))


def _kinds(t: _Turn) -> list[Span]:
    """Kinds named: runs of adjacent kinds read as a head and its modifiers; returns the
    spans whose kind reading did not hold (a facet value, a purpose, a modifier)."""
    cons, view, spans, left = t.out.constraints, t.view, t.spans, []
    runs: list[list[Span]] = []
    kind_spans = [s for s in spans if s.kinds("category")]
    for n, s in enumerate(kind_spans):
        others = [_segments(x) for x in kind_spans if x is not s] + [[c] for c in t.context]
        facet_fits = any(  # the facet value fits the other kinds named
            view.count(SearchFilters(categories=[b], facets={f.key: [f.value]}))
            for f in s.kinds("facet")
            for group in others
            for b in group
        )
        unrelated = not any(
            view.co_occur([a, b]) for a in _segments(s) for group in others for b in group
        )
        earlier = n > 0 or any(x.rewrite for x in spans if x.end <= s.start)
        if s.kinds("facet") and others and unrelated and facet_fits:
            left.append(s)  # "not <value>" among one kind: that kind's flavour, not another kind
        elif _wider_facet(s, view, t.words):
            left.append(s)  # a word more products hold as a facet value than as a kind
        elif _purpose(t.text, t.tokens, s, earlier, view):
            left.append(s)  # "<kind> for <kind>": what it is for
        elif runs and runs[-1][-1].end == s.start and t.neg(runs[-1][-1]) == t.neg(s):
            runs[-1].append(s)
        else:
            runs.append([s])
    for run in runs:
        segs = [_segments(s) for s in run]
        if t.neg(run[-1]):
            cons.exclude_categories += [x for group in segs for x in group]
            t.out.consumed.update(i for s in run for i in range(s.start, s.end))
            continue
        head = segs[-1]
        chosen = list(head)
        t.out.kind_tokens += list(range(run[-1].start, run[-1].end))
        for s, mod in zip(run[:-1], segs[:-1], strict=True):
            if any(view.co_occur([m, h]) for m in mod for h in head):
                chosen = list(mod) + chosen
                t.out.kind_tokens += list(range(s.start, s.end))
            else:
                # a modifier kind the head is not filed under: free text (or a facet value)
                left.append(s)
        cons.categories += _drop_implied(list(dict.fromkeys(chosen)), view)
    cons.categories = list(dict.fromkeys(cons.categories))
    return left


def _audiences(t: _Turn) -> None:
    cons = t.out.constraints
    for s in t.spans:
        group = next((r.value for r in s.kinds("audience")), None)
        if group is None or s.kinds("category") or t.neg(s):
            continue
        hit = _audience(group, cons.categories or t.context, t.words, t.view)
        if isinstance(hit, str):
            cons.categories.insert(0, hit)
            t.out.consumed.update(range(s.start, s.end))
        elif hit is not None:
            cons.facets.setdefault(hit[0], []).append(hit[1])
            t.out.consumed.update(range(s.start, s.end))


def _facet_values(t: _Turn, left: list[Span], scope: list[str], base: SearchFilters) -> None:
    cons = t.out.constraints
    for s in [*left, *(x for x in t.spans if not x.kinds("category"))]:
        facet = [r for r in s.kinds("facet")]
        if not facet or t.taken(s):
            continue
        best = _facet_reading(facet, scope, base, t.view, t.words, negative=t.neg(s))
        if best is not None:
            table = cons.exclude_facets if t.neg(s) else cons.facets
            values = table.setdefault(best.key, [])
            if best.value not in values:
                values.append(best.value)
            t.out.consumed.update(range(s.start, s.end))
            if not t.neg(s) and _key_named(best.key, t.tokens):  # "brand <value>"
                cons.explicit.append(f"facet:{best.key}={best.value}")


def _free_values(t: _Turn, scope: list[str], base: SearchFilters) -> None:
    """ "without sugar", "no gluten": the catalog's own "sugar-free", "gluten-free" values."""
    cons = t.out.constraints
    for i in sorted(t.negated):
        if i in t.out.consumed or any(x.start <= i < x.end for x in t.spans):
            continue
        free = [r for r in t.words.table.get((t.tokens[i].term, "free"), []) if r.kind == "facet"]
        best = _facet_reading(free, scope, base, t.view, t.words, negative=False) if free else None
        if best is not None:
            values = cons.facets.setdefault(best.key, [])
            if best.value not in values:
                values.append(best.value)
            t.out.consumed.add(i)
            t.out.accounted.add(i)


def _colors(t: _Turn, scope: list[str]) -> None:
    cons, tokens = t.out.constraints, t.tokens
    shades = language().color_of
    phrases = t.words.phrases
    color_keys = t.words.lexicon.color_keys()
    for s in t.spans:
        readings = s.kinds("color")
        if not readings or t.taken(s):
            continue
        said = " ".join(x.text for x in tokens[s.start : s.end])
        around = [tokens[i].term for i in (s.start - 1, s.end) if 0 <= i < len(tokens)]
        if any(
            f"{a} {tokens[s.start].term}" in phrases or f"{tokens[s.start].term} {a}" in phrases
            for a in around
        ):
            continue  # a product phrase the catalog uses, not a colour
        basic = shades.get(said, shades.get(readings[0].value, readings[0].value))
        if not t.neg(s):
            t.out.colors.append(basic)
        keys = sorted(((t.view.coverage(k, tuple(scope)), k) for k in color_keys), reverse=True)
        if not keys or (keys[0][0] <= 0 and not t.neg(s)):
            continue  # no colour facet where it matters: a searchable word
        # (an exclusion never empties a result wrongly, so it needs only the facet to exist)
        key = keys[0][1]
        exact = next((v for r in readings if r.key for v in [r.value] if _same(v, said)), None)
        value = exact or basic
        table = cons.exclude_facets if t.neg(s) else cons.facets
        if value not in table.setdefault(key, []):
            table[key].append(value)
        t.out.consumed.update(range(s.start, s.end))
        if not t.neg(s):  # a colour word of the language layer, in the shop's colour facet
            cons.explicit.append(f"facet:{key}={value}")


def _sizes(t: _Turn) -> None:
    cons, out = t.out.constraints, t.out
    for i, tok in enumerate(t.tokens):
        if i in out.consumed:
            continue
        span = next((s for s in t.spans if s.start <= i < s.end), None)
        readings = (span.kinds("size") if span else []) or t.words.code_readings(tok)
        if not readings or not _said_as_size(t.text, t.tokens, i, readings[0]):
            continue
        r = readings[0]
        table = cons.exclude_facets if i in t.negated else cons.facets
        if r.value not in table.setdefault(r.key, []):
            table[r.key].append(r.value)
        if i not in t.negated:
            cons.explicit.append(f"facet:{r.key}={r.value}")  # said as a size
        width = (span.end - span.start) if span and span.kinds("size") else 1
        out.consumed.update(range(i, i + width))
        out.accounted.update(range(i, i + width))


PURPOSE = phrasings().pattern("purpose_before")
AFTER_KIND = phrasings().pattern("after_kind")


def _purpose(text: str, tokens: list[Token], span: Span, earlier: bool, view: CatalogView) -> bool:
    """A kind that says what the wanted thing is for or has, not what is wanted: after
    another kind, "for/with …" ("<kind> for <kind>", "<kind> with <kind>"); and a kind read
    from titles after "for my" ("a <kind> for my <kind>"). A category of the shop's own on
    its own ("something for my <category>") still counts."""
    before = text[: tokens[span.start].start].casefold()[-24:]
    who = span.kinds("audience") or all(view.is_top(r.value) for r in span.kinds("category"))
    if earlier and not who and AFTER_KIND.search(before):
        return True  # ("<kind> for <audience>": who it is for still narrows the search)
    derived = all(r.derived for r in span.kinds("category"))
    return derived and bool(PURPOSE.search(before))


def _wider_facet(span: Span, view: CatalogView, words: CatalogWords) -> bool:
    """A kind read only from titles that a facet of the catalog states for more products:
    the catalog's own statement is the better reading."""
    cats = span.kinds("category")
    if not cats or not all(r.derived for r in cats):
        return False
    titled = view.count(SearchFilters(categories=[r.value for r in cats]))
    stated = [
        view.count(SearchFilters(facets={f.key: [f.value]}))
        for f in span.kinds("facet")
        if (t := words.lexicon.facet(f.key)) is not None and t.constrains
    ]
    return bool(stated) and max(stated) > titled


def _head_kind(span: Span, tokens: list[Token], words: CatalogWords, view: CatalogView) -> None:
    """A facet-value phrase (a flavour of two words) also names its last word's category
    when that value's products lie there; a flavour ending in a kind's word alone does not."""
    if span.end - span.start < 2 or span.kinds("category") or not span.kinds("facet"):
        return
    head = [r for r in words.table.get((tokens[span.end - 1].term,), []) if r.kind == "category"]
    for r in head:
        if any(
            view.count(SearchFilters(categories=[r.value], facets={f.key: [f.value]}))
            for f in span.kinds("facet")
        ):
            span.readings.append(r)


def _segments(span: Span) -> list[str]:
    cats = span.kinds("category")
    own = [r.value for r in cats if not r.derived]
    return own or [r.value for r in cats]


def _drop_implied(segments: list[str], view: CatalogView) -> list[str]:
    """Kinds implied by another named: "<kind> <group>" where every <kind> lies under
    <group> adds nothing. A top-level category said ("<audience>'s <kind>") is kept: the
    shopper named it."""
    return [
        a
        for a in segments
        if view.is_top(a) or not any(b != a and view.always_under(b, a) for b in segments)
    ]


def _audience(group: str, kinds: list[str], words: CatalogWords, view: CatalogView):
    """A category segment (str) or a facet (key, value) for an audience group of the
    language data (`[audience]`: "<audience>" and its words), or None."""
    lang = language()
    names = {term(w) for w in lang.audience[group]} | {term(group)}
    cats = [
        c.segment
        for c in words.lexicon.kinds()
        if not c.derived and term(c.segment.replace(" ", "")) in names
    ]
    for c in cats:
        if not kinds or any(view.co_occur([c, k]) for k in kinds):
            return c
    base = SearchFilters(categories=view.compose(kinds)) if kinds else SearchFilters()
    best = None
    for f in words.lexicon.facets.values():
        if not f.constrains or f.dimension:
            continue
        for value in f.values:
            if term(value.replace(" ", "")) in names:
                n = view.count(base.model_copy(update={"facets": {f.key: [value]}}))
                if n and (best is None or n > best[0]):
                    best = (n, (f.key, value))
    return best[1] if best else None


def _facet_reading(
    readings: list[Reading],
    scope: list[str],
    base: SearchFilters,
    view: CatalogView,
    words: CatalogWords,
    negative: bool,
) -> Reading | None:
    best, best_n = None, -1
    for r in readings:
        f = words.lexicon.facet(r.key)
        if f is None or not f.constrains:
            continue
        cover = view.coverage(r.key, tuple(scope))
        if not negative and ((scope and cover <= 0) or (not scope and cover < 0.5)):
            continue
        n = view.count(base.model_copy(update={"facets": {r.key: [r.value]}}))
        if negative or n > best_n:
            best, best_n = r, n
    return best


def _key_named(key: str, tokens: list[Token]) -> bool:
    """The facet's own name is in the message ("brand", "material"): the value was stated."""
    said = {t.term for t in tokens}
    return all(term(w) in said for w in key.replace("_", " ").split())


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


SIZE_BEFORE = phrasings().pattern("size_before")
CODE_BEFORE = phrasings().pattern("code_before")  # "an <code>": size codes only
SIZE_AFTER = phrasings().pattern("size_after")  # "<size word> size"
ONLY_A_WORD = phrasings().pattern("only_value", value=r"\w+")  # "medium please"


def _said_as_size(text: str, tokens: list[Token], i: int, reading: Reading) -> bool:
    """ "size <code>", "in a <size word>", "an <code>", "<size word> size", "<size word>
    please": a size; a bare code or size word ("a <size word> <kind>") is not."""
    t = tokens[i]
    raw = text[t.start : t.end]
    before, after = text[: t.start].casefold(), text[t.end :].casefold()
    if SIZE_BEFORE.search(before[-12:]) or SIZE_AFTER.match(after):
        return True
    if reading.kind != "size" and CODE_BEFORE.search(before[-4:]):
        return True
    if reading.kind == "size":  # spelled: "medium"
        return bool(ONLY_A_WORD.match(text.strip()))
    if len(raw) >= 2 and raw.isupper() and raw.isalpha():
        return True  # "XL", "XS" in capitals
    return bool(phrasings().pattern("only_value", value=re.escape(raw)).match(text))
