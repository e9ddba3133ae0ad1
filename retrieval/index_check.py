"""`aisle ingest --check`: is the live generation whole and consistent? Counts, ids and
rows, every part's length, Chroma's ids and a sample of its vectors, the photo copies, and
a sample of products re-embedded against the vectors stored for their rows (the check that
catches a row carrying another product's vector)."""

from __future__ import annotations

import json

import numpy as np
from pydantic import BaseModel, Field

from .index import IMAGE_TEXT, PENDING, PHOTOS, TEXT, ProductIndex
from .models import resolve_device
from .text_embedder import TextEmbedder, product_text

SAME = 0.99  # cosine above which a re-embedded text is the vector stored for it


class IndexCheck(BaseModel):
    index_dir: str
    generation: str
    products: int = 0
    problems: list[str] = Field(default_factory=list)  # search could serve something wrong
    notes: list[str] = Field(default_factory=list)  # harmless, tidied by the next ingest
    checked: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_index(index: ProductIndex, sample: int = 32, embed: bool = True) -> IndexCheck:
    report = IndexCheck(index_dir=str(index.dir), generation=index.generation or "(top level)")
    problems, checked = report.problems, report.checked
    if index.live_generation() is None:
        problems.append(f"no index in {index.dir}")
        return report
    try:
        manifest, ids = index.manifest, index.ids
        products = index.all_products()
    except Exception as exc:  # noqa: BLE001 - whatever is broken is the finding
        problems.append(f"cannot read the generation: {type(exc).__name__}: {exc}")
        return report
    n = report.products = len(ids)
    if manifest.products != n:
        problems.append(f"manifest says {manifest.products} products, the rows hold {n}")
    if len(set(ids)) != n or [p.id for p in products] != ids:
        problems.append("product ids are not unique or not in row order")
    checked.append("rows and ids")
    try:
        vectors, facets = index.vectors, index.facets
        lexical_docs = index.lexical.retriever.scores.get("num_docs", n)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"cannot read vectors, facets or BM25: {type(exc).__name__}: {exc}")
        return report
    for name, length in (
        ("text vectors", len(vectors.text)),
        ("image-text vectors", len(vectors.image_text)),
        ("photo flags", len(vectors.has_image)),
        ("colour shares", len(vectors.color)),
        ("filter columns", facets.n),
        ("BM25 documents", lexical_docs),
    ):
        if length != n:
            problems.append(f"{name}: {length} rows for {n} products")
    photos = len(vectors.photo_digests)
    if len(vectors.pair_photo) and (
        vectors.pair_photo.max() >= photos or vectors.pair_product.max() >= n
    ):
        problems.append("a product→photo pair points past the photos or the products")
    missing = [d for d in vectors.photo_digests if not (index.photos_dir / f"{d}.jpg").is_file()]
    if missing:
        problems.append(f"{len(missing)} photo copies missing from {index.photos_dir}")
    checked.append("part lengths and photo copies")
    if problems:  # the parts disagree already: comparing them further proves nothing more
        return report

    pending = set()
    if (index.dir / PENDING).is_file():
        pending = set(json.loads((index.dir / PENDING).read_text()))
        report.notes.append(
            f"an ingest did not finish: the next one writes {len(pending)} products' vectors again"
        )
    _check_chroma(index, ids, vectors, sample, problems, report.notes, pending)
    checked.append(f"Chroma ({index.store.where})")
    if embed and n:
        _check_embeddings(index, products, vectors.text, sample, problems)
        checked.append(f"{min(sample, n)} products re-embedded")
    return report


def _check_chroma(index, ids, vectors, sample, problems, notes, pending) -> None:
    """Chroma only proposes candidates (search scores them with the generation's vectors),
    so a vector an unfinished ingest wrote there is a note; any other difference is not."""
    store, manifest = index.store, index.manifest
    wanted = {
        TEXT: (set(ids), vectors.text, {pid: r for r, pid in enumerate(ids)}),
        IMAGE_TEXT: (
            {pid for pid, has in zip(ids, vectors.has_image, strict=True) if has},
            vectors.image_text,
            {pid: r for r, pid in enumerate(ids)},
        ),
        PHOTOS: (
            set(vectors.photo_digests),
            vectors.photo_visual,
            {d: i for i, d in enumerate(vectors.photo_digests)},
        ),
    }
    for role, (want, matrix, row_of) in wanted.items():
        if matrix.shape[1] == 0:
            continue
        name = manifest.collection(role)
        try:
            have = set(store.ids(name))
        except Exception as exc:  # noqa: BLE001 - a store that is down is the finding
            problems.append(f"Chroma collection {name}: {exc}")
            return
        if want - have:
            problems.append(f"Chroma {name}: {len(want - have)} ids of the index are missing")
        if have - want:  # search ignores them; the next ingest removes them
            notes.append(f"Chroma {name}: {len(have - want)} ids the index does not hold")
        probe = sorted(want & have)[:sample]
        probe = sorted(set(probe) | (pending & want & have))
        stored = store.vectors(name, probe) if probe else {}
        off = [i for i in probe if float(stored[i] @ matrix[row_of[i]]) < SAME]
        if set(off) & pending:
            notes.append(f"Chroma {name}: {len(set(off) & pending)} vectors of that ingest")
        off = [i for i in off if i not in pending]
        if off:
            problems.append(
                f"Chroma {name}: {len(off)} of {len(probe)} vectors differ, e.g. {off[0]}"
            )


def _check_embeddings(index, products, text_vectors, sample, problems) -> None:
    rows = np.linspace(0, len(products) - 1, min(sample, len(products))).astype(int)
    embedder = TextEmbedder(
        index.manifest.text_model,
        resolve_device(index.config.device),
        max_tokens=index.manifest.text_max_tokens,
    )
    fresh = embedder.embed([product_text(products[r]) for r in rows])
    sims = np.sum(fresh * text_vectors[rows], axis=1)
    wrong = [products[r].id for r, s in zip(rows, sims, strict=True) if s < SAME]
    if wrong:
        problems.append(
            f"{len(wrong)} of {len(rows)} sampled rows carry another text's vector, "
            f"e.g. {wrong[0]}: re-embed them all with `aisle ingest CATALOG --rebuild`"
        )
