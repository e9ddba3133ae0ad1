"""Which of the dialogue's constraints filter, and which only re-rank.

A constraint the shopper stated is explicit, a hard filter: a price, an amount, "size M",
"brand <name>" (the facet named), a colour word in the colour facet, an exclusion, the
answer to the assistant's question, and a value that filtered the last reply and was kept
(its chip was shown and not removed). A value read only because a word of the message equals
some facet value or category segment is inferred: in a clean catalog it is what the shopper
meant, in a scraped one it may be a coincidence (a brand named like a colour, a junk colour
value, a deep browse segment, an audience word equal to some odd value). An inferred value

- is soft when the catalog makes it ambiguous: a one-word value whose own products are a
  minority of the products whose titles hold the word ("Blue" the brand among blue things).
  A soft value's word stays in the searched text and lifts the products that hold it; it
  never removes one;
- else filters when the filtered search's first few are at least as close to the words as
  the unfiltered search's (`as_good`: own cosine and BM25, which compare across searches),
  and re-ranks as a soft value does when they are not;
- and when filtering leaves one product, the products it removed that are as close to the
  words fill the reply, after the match and said to be others.

The decision is taken again at every search, from the state and this catalog's lexicon."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from base.language.general import language
from base.language.text import normalise, term, words
from retrieval.facets import product_matches
from retrieval.fusion import RRF_K
from retrieval.lexicon import Lexicon
from retrieval.schema import Candidate, Product, SearchFilters

from .chips import chips_of, without
from .records import DialogueState
from .understanding.catalog import CatalogView

LIFT = 0.25  # see lift()
WORSE_BY = 0.1  # the filtered top's own score this much under the unfiltered's: not applied
TOP = 3  # the products of a reply read first: where a filter must fit at least as well
FILL_WITHIN = 0.02  # a removed product this close in cosine to the match fills the reply
AMBIGUOUS_SHARE = 0.5  # the value's products among those whose text holds its rarest word
INFERRED = ("category", "facet")  # chip slots a word can put there by coincidence


@dataclass
class Evidence:
    hard: DialogueState  # the state with only the filters this search applies
    soft: list[str] = field(default_factory=list)  # chip keys that only re-rank
    inferred: list[str] = field(default_factory=list)  # chip keys filtering by inference
    words: str = ""  # the inferred values' words, searched with the need

    @property
    def need(self) -> str:
        """What is searched: the shopper's need and the words of the values read from it."""
        return f"{self.hard.need} {self.words}".strip()

    def described(self) -> DialogueState:
        """The state as this search applies it: its filters, and the need it searched."""
        return self.hard.model_copy(update={"need": self.need})

    def loosened(self, view: CatalogView) -> Evidence:
        """Every inferred value soft: what the search is without them."""
        hard = self.hard
        for key in self.inferred:
            hard = without(hard, key, view)
        soft = [*self.soft, *self.inferred]
        return Evidence(hard=hard, soft=soft, words=self.words)


def contradictory(ev: Evidence, view: CatalogView) -> bool:
    """No product holds the inferred values together, whatever else was asked: the reading
    of the words contradicts itself (a brand and a browse segment it never sells in), so
    it, not what the shopper stated, is what to loosen."""
    alone = ev.hard
    for chip in chips_of(ev.hard):
        if chip.key not in ev.inferred:
            alone = without(alone, chip.key, view)
    return bool(ev.inferred) and view.count(alone.filters) == 0


def inferred_keys(state: DialogueState) -> list[str]:
    """Chip keys of the state that no explicit statement backs."""
    explicit = set(state.explicit)
    return [
        c.key
        for c in chips_of(state)
        if c.key.split(":", 1)[0] in INFERRED and c.key not in explicit
    ]


def weigh(state: DialogueState, lexicon: Lexicon, view: CatalogView, mode: str) -> Evidence:
    """`mode` "filter": every value filters, as the reader read it; "weigh": as above."""
    if mode == "filter":
        return Evidence(hard=state)
    inferred = inferred_keys(state)
    soft = [k for k in inferred if ambiguous(k, lexicon)]
    hard = state
    for key in soft:
        hard = without(hard, key, view)
    # the values' words are searched whether they filter or not: the two searches that
    # `as_good` compares score the same words
    return Evidence(
        hard=hard,
        soft=soft,
        inferred=[k for k in inferred if k not in soft],
        words=_words(inferred),
    )


def ambiguous(key: str, lexicon: Lexicon) -> bool:
    """A one-word facet value whose own products are a minority of those whose titles hold
    the word: it means something else in this catalog more often than it means this value
    ("Blue" the brand among blue things)."""
    slot, _, rest = key.partition(":")
    name, _, value = rest.partition("=")
    facet = lexicon.facet(name) if slot == "facet" else None
    if facet is None or len(words(value)) > 1:
        # a kind's word in other titles is mostly a modifier ("<kind> chocolate"): whether
        # its filter fits is for `as_good`; a phrase ("<word> & <word>") is no coincidence
        return False
    own = next((n for v, n in facet.values.items() if normalise(v) == normalise(value)), 0)
    # titles say what a product is; descriptions mention everything ("crisp", "dark")
    df = [lexicon.title_words.get(term(w), 0) for w in words(value)]
    df = [d for d in df if d]
    if not own or not df:
        return False
    return own < AMBIGUOUS_SHARE * min(df)


def lift(candidates: list[Candidate], soft: list[str]) -> list[Candidate]:
    """Candidates holding soft values rise by a quarter of what one more signal's first
    rank adds in the fusion (retrieval/fusion.py), per facet (or kind) held: about ten
    places near the top of one signal, a nudge on the retrieval's own scale that cannot
    pull a product the words do not fit above the ones they do."""
    if not soft:
        return candidates
    groups: dict[str, list[SearchFilters]] = {}  # a facet's values, or the kinds: alternatives
    for key in soft:
        groups.setdefault(key.partition("=")[0], []).append(filters_of(key))
    return _nudged(
        candidates,
        [
            sum(any(product_matches(c.product, f) for f in g) for g in groups.values())
            for c in candidates
        ],
    )


def filters_of(key: str) -> SearchFilters:
    """The filter a category or facet chip stands for (`chips.chips_of`'s keys)."""
    slot, _, rest = key.partition(":")
    if slot == "category":
        return SearchFilters(categories=[rest])
    name, _, value = rest.partition("=")
    return SearchFilters(facets={name: [value]})


def _nudged(candidates: list[Candidate], steps: list[int]) -> list[Candidate]:
    """Each candidate's fused score moved by its steps of the lift, best first again."""
    step = LIFT / (RRF_K + 1)
    scored = [
        c.model_copy(update={"score": c.score + step * n}) if n else c
        for c, n in zip(candidates, steps, strict=True)
    ]
    return sorted(scored, key=lambda c: -c.score)


def as_good(filtered: list[Candidate], loose: list[Candidate], n: int) -> bool:
    """Whether the filtered search's best are at least as close to the words as as many of
    the unfiltered search's best, by the candidates' own scores — cosine plus BM25 over the
    larger of the two lists' best BM25 — which, unlike fused ranks, compare across the two
    searches. An empty filtered list is not as good (the turn then names what to drop)."""
    if not filtered:
        return False
    m = min(n, TOP, len(filtered))
    top = max((_bm25(c) for c in [*filtered[:m], *loose[:m]]), default=0.0) or 1.0

    weights = [1 / math.log2(i + 2) for i in range(m)]  # the top counts most, as in DCG

    def closeness(cands: list[Candidate]) -> float:
        own = [_cosine(c) + _bm25(c) / top for c in cands[:m]]
        return sum(w * x for w, x in zip(weights, own, strict=False)) / sum(weights)

    return closeness(filtered) >= closeness(loose) - WORSE_BY


def _bm25(c) -> float:
    return c.signals["lexical"].score if "lexical" in c.signals else 0.0


def close_enough(extra: list[Candidate], matched: list) -> list[Candidate]:
    """Of the products a filter removed, those as close to the words as the matches are:
    in a small clean shop "a laptop" leaves two laptops and nothing else that close, in a
    scraped one a brand's one product leaves others of its kind just as close."""
    floor = min((_cosine(m) for m in matched), default=0.0) - FILL_WITHIN
    return [c for c in extra if _cosine(c) >= floor and _bm25(c) > 0]  # and a word in common


def shun(candidates: list[Candidate], avoid: list[str]) -> list[Candidate]:
    """ "without <thing>" as shoppers mean it: a product whose facts say it lacks the thing
    ("no <thing>", "<thing>-free") rises, one whose facts mention it otherwise sinks, by
    the lift's step; none is removed (a title with "without" in it is only words)."""
    if not avoid:
        return candidates
    lang = language()
    wanted = {term(w) for w in avoid}

    def verdict(product: Product) -> int:
        text = " ".join(
            [
                product.title,
                product.description,
                *(v for k in product.facet_keys() for v in product.values(k)),
            ]
        )
        # "straw-free" is one word to the tokeniser: its parts are read here
        raw = [part for w in words(text) for part in w.casefold().split("-") if part]
        toks = [term(w) for w in raw]
        lacks = has = False
        for i, t in enumerate(toks):
            if t not in wanted:
                continue
            before = {raw[j] for j in range(max(0, i - 3), i)}
            after = raw[i + 1] if i + 1 < len(raw) else ""
            if before & lang.negators or after in lang.absent_after:
                lacks = True
            else:
                has = True
        return 1 if lacks else -1 if has else 0

    return _nudged(candidates, [verdict(c.product) for c in candidates])


def _cosine(c) -> float:
    return c.signals["dense"].score if "dense" in c.signals else 0.0


def _words(keys: list[str]) -> str:
    """Facet values, searched as words (the need left them out when it read them as
    filters); a kind's own words are in the need already."""
    return " ".join(k.partition("=")[2] for k in keys if k.startswith("facet:"))
