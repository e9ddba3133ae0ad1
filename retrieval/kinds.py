"""What kind of product a listing is, from the catalog itself: its category path, and the
head noun of its title when that is a product noun ("<Name> <Noun>" under <Top>/<Leaf>
is a <noun>; "<Noun> for <use> 1 L" too; "Set of <Name> <Noun>s" a <noun>).

English noun phrases put the head last ("<word> <noun>" is a <noun>), before any
"for/with/in" phrase, and after "set/pack of". A head is only taken from the general list
of product nouns (base/language/data/product_nouns.txt), so brand-like last words or
numbers never become kinds. A head already named by the leaf category adds nothing; any
other is a kind below each of the product's categories, so the noun finds those products,
and the leaf's own word still finds them with the rest."""

from __future__ import annotations

import functools

from base.language.general import language, phrasings
from base.language.quantities import find_quantities
from base.language.text import fold, term, token_spans

from .schema import Product

CUT = phrasings().words["kind_cut"]  # "Muesli No Added Sugar"
CONTAINERS = phrasings().words["containers"]
OF = phrasings().words["of"]  # "Set of <name>s"


@functools.cache
def _noun_terms() -> dict[str, str]:
    """term → noun as listed (one or two words)."""
    return {" ".join(term(w) for w in n.split()): n for n in language().product_nouns}


@functools.lru_cache(maxsize=65536)  # every candidate's title, every turn
def title_kind(title: str) -> str | None:
    """The title's head noun when it is a product noun, as a term."""
    text = fold(title)
    quantities = find_quantities(text)
    drop = {(q.start, q.end) for q in quantities}
    spans = token_spans(text)
    for q in quantities:  # "70% Cocoa" states content, not what the product is
        after = [(s, e) for _, s, e in spans if s >= q.end]
        if q.dimension == "percent" and after:
            drop.add(after[0])
    toks = [
        (w, s)
        for w, s, e in spans
        if not any(a <= s and e <= b for a, b in drop) and not w.isdigit()
    ]
    words = [w for w, _ in toks]
    if len(words) > 2 and words[1] in OF and words[0] in CONTAINERS:
        words = words[2:]  # "Set of <Name> <Noun>s" is about the <noun>s
    for i, w in enumerate(words):
        if w in CUT and i > 0:
            words = words[:i]
            break
    nouns = _noun_terms()
    keys = [term(w) for w in words]
    for i in range(len(keys) - 1, -1, -1):
        if i > 0 and f"{keys[i - 1]} {keys[i]}" in nouns:
            return f"{keys[i - 1]} {keys[i]}"
        if keys[i] in nouns:
            return keys[i]
    return None


def kind_paths(product: Product) -> list[str]:
    """The product's category paths, its primary one extended by its title's kind when the
    leaf does not already name it (merchandising paths are left as they are); a product
    with no category gets its kind alone."""
    kind = title_kind(product.title)
    paths = list(product.categories)
    if not kind:
        return paths
    if not product.category:
        return [*paths, kind]
    leaf = product.category.replace(">", "/").rsplit("/", 1)[-1]
    if kind in {term(w) for w in fold(leaf).replace("&", " ").split()}:
        return paths
    return [*paths, f"{product.category}/{kind}"]
