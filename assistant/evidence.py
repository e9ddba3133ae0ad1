"""Which of the dialogue's constraints filter, and which only re-rank.

A constraint the shopper stated — a price, "size M", "brand <name>" (the facet named), an
exclusion, the answer to the assistant's question — is explicit: a hard filter. A value read
only because a word of the message equals some facet value or category segment is inferred:
in a clean catalog it is what the shopper meant, in a scraped one it may be a coincidence (a
brand called like a colour, a junk colour value, a deep browse segment). So an inferred value

- is soft when the catalog makes it ambiguous: the value's own products are a minority of
  the products whose text holds its words ("Blue" the brand among everything blue). A soft
  value keeps its words in the searched text and lifts the products that hold it, and never
  removes one;
- else filters when the filtered search's best are at least as close to the words as the
  unfiltered search's (`as_good`), and then, when it leaves fewer products than a reply
  shows, the reply is filled with the closest products it removed, after the matches and
  said to be others; when they are not as close, it re-ranks as a soft value does.

The decision is taken again at every search from the state and this catalog's lexicon:
nothing of it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval.facets import path_segments
from retrieval.fusion import RRF_K
from retrieval.kinds import kind_paths
from retrieval.language.text import normalise, term, words
from retrieval.lexicon import Lexicon
from retrieval.schema import Candidate, Product

from .chips import chips_of, without
from .records import DialogueState
from .understanding.catalog import CatalogView

LIFT = 0.25  # see lift()
WORSE_BY = 0.02  # the filtered top's mean cosine this much under the unfiltered: not applied
AMBIGUOUS_SHARE = 0.5  # the value's products among those whose text holds its rarest word
INFERRED = ("category", "facet")  # chip slots a word can put there by coincidence


@dataclass
class Evidence:
    hard: DialogueState  # the state with only the filters this search applies
    soft: list[str] = field(default_factory=list)  # chip keys that only re-rank
    inferred: list[str] = field(default_factory=list)  # chip keys filtering by inference
    words: str = ""  # the soft values' words, searched with the need

    @property
    def relaxed(self) -> bool:
        return bool(self.inferred)

    def loosened(self, view: CatalogView) -> Evidence:
        """Every inferred value soft: what the search is without them."""
        hard = self.hard
        for key in self.inferred:
            hard = without(hard, key, view)
        soft = [*self.soft, *self.inferred]
        return Evidence(hard=hard, soft=soft, words=_words(soft))


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
    return Evidence(
        hard=hard, soft=soft, inferred=[k for k in inferred if k not in soft], words=_words(soft)
    )


def ambiguous(key: str, lexicon: Lexicon) -> bool:
    """A facet value or category whose own products are a minority of those whose titles
    hold its rarest word: the word means something else in this catalog more often than it
    means this ("Blue" the brand among blue things, "Tops" among table tops)."""
    slot, _, rest = key.partition(":")
    if slot == "category":
        cat = lexicon.categories.get(rest)
        own, value = (cat.count, cat.display) if cat else (0, rest)
    else:
        name, _, value = rest.partition("=")
        facet = lexicon.facet(name)
        if facet is None:
            return False
        own = next((n for v, n in facet.values.items() if normalise(v) == normalise(value)), 0)
    # titles say what a product is; descriptions mention everything ("crisp", "dark")
    df = [lexicon.title_words.get(term(w), 0) for w in words(value)]
    df = [d for d in df if d]
    if not own or not df:
        return False
    return own < AMBIGUOUS_SHARE * min(df)


def lift(candidates: list[Candidate], soft: list[str], matches) -> list[Candidate]:
    """Candidates holding soft values rise by a quarter of what one more signal's first
    rank adds in the fusion (retrieval/fusion.py), per facet (or kind) held: about ten
    places near the top of one signal, a nudge on the retrieval's own scale that cannot
    pull a product the words do not fit above the ones they do."""
    if not soft:
        return candidates
    bonus = LIFT / (RRF_K + 1)
    groups: dict[str, list[str]] = {}  # a facet's values, or the kinds: alternatives
    for key in soft:
        groups.setdefault(key.partition("=")[0], []).append(key)
    scored = [
        c.model_copy(
            update={
                "score": c.score
                + bonus * sum(any(matches(c.product, k) for k in g) for g in groups.values())
            }
        )
        for c in candidates
    ]
    return sorted(scored, key=lambda c: -c.score)


def holds(product: Product, key: str) -> bool:
    """Whether the product holds a chip's value (a facet value of its own or a variant's, or
    a category segment on one of its paths)."""
    slot, _, rest = key.partition(":")
    if slot == "category":
        return normalise(rest) in {s for p in kind_paths(product) for s in path_segments(p)}
    name, _, value = rest.partition("=")
    return normalise(value) in {normalise(v) for v in product.values(name)}


def as_good(filtered: list[Candidate], loose: list[Candidate], n: int) -> bool:
    """Whether the filtered search's best are at least as close to the words as as many of
    the unfiltered search's best, by the candidates' own scores — cosine plus BM25 over the
    larger of the two lists' best BM25 — which, unlike fused ranks, compare across the two
    searches; a filtered list that is empty is not."""
    if not filtered:
        return False
    m = min(n, len(filtered))
    top = max((_bm25(c) for c in [*filtered[:m], *loose[:m]]), default=0.0) or 1.0

    def closeness(cands: list[Candidate]) -> float:
        return sum(_cosine(c) + _bm25(c) / top for c in cands[:m]) / m

    return closeness(filtered) >= closeness(loose) - WORSE_BY


def _bm25(c) -> float:
    return c.signals["lexical"].score if "lexical" in c.signals else 0.0


def close_enough(extra: list[Candidate], matched: list) -> list[Candidate]:
    """Of the products a filter removed, those as close to the words as the matches are:
    in a small clean shop "a laptop" leaves two laptops and nothing else that close, in a
    scraped one a brand's one product leaves others of its kind just as close."""
    floor = min((_cosine(m) for m in matched), default=0.0) - WORSE_BY
    return [c for c in extra if _cosine(c) >= floor]


def _cosine(c) -> float:
    return c.signals["dense"].score if "dense" in c.signals else 0.0


def _words(soft: list[str]) -> str:
    """The soft facet values, searched as words (the need left them out when it read them as
    filters); a kind's own words are in the need already."""
    return " ".join(k.partition("=")[2] for k in soft if k.startswith("facet:"))
