"""Hybrid search: filter first, then lexical + dense text + image signals, fused.

Filters are evaluated in process (`FacetIndex`), so every signal ranks only allowed
products and no violating product can reach the result. Dense signals are answered
exactly over the allowed rows when they are few (small catalogs, selective filters);
otherwise a low-dimensional copy of the allowed rows proposes candidates that the full
vectors rescore (retrieval/projection.py), or, when asked, Chroma's HNSW proposes them and
a post-filter keeps the allowed, falling back to exact search when it leaves too few.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from base.language.general import language
from base.language.text import words

from .color import basic_color, basic_colors
from .facets import matching_variants, product_listed, product_matches
from .fusion import Ranking, fuse, top_rows
from .image_embedder import PhotoTooLargeError, make_image_encoder, open_image
from .index import IMAGE_TEXT, PHOTOS, TEXT, ProductIndex
from .models import ModelUnavailableError, resolve_device
from .projection import Projection
from .schema import Candidate, SearchFilters, SearchRequest, SearchResult, SignalScore
from .text_embedder import TextEmbedder


class FusionWeights(BaseModel):
    """Prior weights, set before any evaluation: text signals lead; the ImageNet bridge is
    weak on its own (docs/models.md: NDCG@10 0.53 vs 0.77 for the name), so it counts little."""

    lexical: float = 1.0
    dense: float = 1.0
    image_text: float = 0.3
    color: float = 0.5
    image: float = 1.0


class SearchTuning(BaseModel):
    fetch: int = 100  # candidates per signal
    exact_below: int = 5_000  # allowed rows under this: exact search over them all
    # above it: "projection" scans a 96-d PCA copy of the allowed rows and rescores its best
    # `depth` exactly (retrieval/projection.py); "chroma" asks Chroma's HNSW and post-filters
    approximate: Literal["projection", "chroma"] = "projection"
    projection_dims: int = 96
    depth: int = 2_000
    ann_overfetch: float = 1.5
    ann_max: int = 5_000  # the widest Chroma fetch before exact search takes over
    cache_queries: bool = True  # the need text repeats across refinement turns


class HybridSearcher:
    def __init__(
        self,
        index: ProductIndex,
        weights: FusionWeights | None = None,
        tuning: SearchTuning | None = None,
    ):
        self.index = index
        self.weights = weights or FusionWeights()
        self.tuning = tuning or SearchTuning()
        self.device = resolve_device(index.config.device)
        self.text_embedder = TextEmbedder(
            index.manifest.text_model,
            device=self.device,
            max_tokens=index.manifest.text_max_tokens,
        )
        self.exact_fallbacks = 0  # ANN answers that the post-filter left too thin
        self._query_cache: dict[str, np.ndarray] = {}
        self._projections: dict[str, Projection] = {}
        self._projection_lock = threading.Lock()

    @functools.cached_property
    def image_encoder(self):
        """Loaded on first use: an index without photos never needs it for text queries."""
        return make_image_encoder(self.index.manifest.image_model, self.text_embedder, self.device)

    # ---- the search ----------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = round((now - clock) * 1000, 3)
            clock = now

        facets = self.index.facets
        allowed = facets.mask(request.filters)
        total = int(allowed.sum())
        lap("filter_ms")
        if total == 0:
            return SearchResult(
                candidates=[],
                total_matching=0,
                empty_reason=facets.explain_empty(request.filters),
                timings_ms=timings,
            )

        rankings: dict[str, Ranking] = {}
        text = request.text.strip()
        if text:
            rankings["lexical"] = self._lexical(text, allowed)
            lap("lexical_ms")
            query_vec = self._embed_query(text)
            lap("embed_ms")
            rankings["dense"] = self._dense(TEXT, self.index.vectors.text, query_vec, allowed)
            lap("dense_ms")
            if self.index.manifest.photos and self.image_encoder is not None:
                rankings["image_text"] = self._image_text(text, query_vec, allowed)
                colors = (
                    request.colors
                    if request.colors is not None
                    else self.query_colors(text, request.filters)
                )
                if colors:
                    rankings["color"] = self._color(colors, allowed)
                lap("image_text_ms")
        if request.image_path:
            rankings["image"] = self._photo(Path(request.image_path), allowed)
            lap("image_ms")

        rankings = {name: r for name, r in rankings.items() if len(r.rows)}
        if rankings:
            fused = fuse(rankings, self.weights.model_dump())
        else:  # filters only: the allowed products in catalog order
            fused = [(int(r), 0.0, {}) for r in np.flatnonzero(allowed)[: request.k]]
        candidates = self._candidates(fused, request)
        lap("fuse_ms")
        timings["total_ms"] = round(sum(timings.values()), 3)
        return SearchResult(candidates=candidates, total_matching=total, timings_ms=timings)

    # ---- signals -------------------------------------------------------------------------
    def _lexical(self, text: str, allowed: np.ndarray) -> Ranking:
        scores = self.index.lexical.scores(text)
        rows = np.flatnonzero(scores > 0.0)  # the products sharing a word: usually few
        rows = rows[allowed[rows]]
        return top_rows(scores[rows], rows, self.tuning.fetch, min_score=0.0)

    def _dense(
        self, collection: str, matrix: np.ndarray, query: np.ndarray, allowed: np.ndarray
    ) -> Ranking:
        n_allowed = int(allowed.sum())
        fetch = self.tuning.fetch
        if n_allowed >= self.tuning.exact_below and self.tuning.approximate == "projection":
            rows = self._projection(collection, matrix).candidates(
                query, allowed, self.tuning.depth
            )
            return top_rows(np.asarray(matrix[rows] @ query), rows, fetch)
        if n_allowed >= self.tuning.exact_below:
            share = n_allowed / len(allowed)
            want = math.ceil(fetch / share * self.tuning.ann_overfetch) + 10
            row_of = self.index.row_of
            # A filter can correlate with the query's neighbourhood (a kind's pricier products
            # near its name), so widen the ANN fetch a few times before paying for exact
            # search.
            name = self.index.manifest.collection(collection)
            while want <= self.tuning.ann_max:
                ids, _ = self.index.store.query(name, query, want)
                rows = np.fromiter((row_of.get(i, -1) for i in ids), np.int64, count=len(ids))
                ok = (rows >= 0) & allowed[np.maximum(rows, 0)]
                if ok.sum() >= min(fetch, n_allowed) or len(ids) < want:
                    # Chroma proposes, the generation's own vectors score: ids another
                    # generation wrote are ignored, and no score comes from one
                    rows = rows[ok]
                    return top_rows(np.asarray(matrix[rows] @ query), rows, fetch)
                want *= 4
            self.exact_fallbacks += 1
        rows = np.flatnonzero(allowed)
        return top_rows(np.asarray(matrix[rows] @ query), rows, fetch)

    def _projection(self, collection: str, matrix: np.ndarray) -> Projection:
        """Built on first use (about a second per 100k rows), once per searcher."""
        with self._projection_lock:
            if collection not in self._projections:
                self._projections[collection] = Projection(matrix, self.tuning.projection_dims)
            return self._projections[collection]

    def _image_text(self, text: str, query_vec: np.ndarray, allowed: np.ndarray) -> Ranking:
        vectors = self.index.vectors
        if vectors.image_text.shape[1] == 0:
            return Ranking(rows=np.zeros(0, np.int64), scores=np.zeros(0, np.float32))
        if not self.image_encoder.shares_text_space:
            query_vec = self.image_encoder.encode_text_queries([text])[0]
        return self._dense(IMAGE_TEXT, vectors.image_text, query_vec, allowed & vectors.has_image)

    @functools.cached_property
    def query_encoder(self):
        """ONNX Runtime for the query on a CPU (~3× faster, the same vectors: see
        retrieval/query_encoder.py), else the torch model that embedded the documents."""
        choice = self.index.config.query_encoder
        if choice == "torch" or (choice == "auto" and self.device != "cpu"):
            return self.text_embedder
        from .query_encoder import load_query_encoder

        onnx, why = load_query_encoder(self.index.manifest.text_model)
        if onnx is None and choice == "onnx":
            raise ModelUnavailableError(f"query_encoder = 'onnx' cannot be used: {why}")
        return onnx or self.text_embedder

    def _embed_query(self, text: str) -> np.ndarray:
        if not self.tuning.cache_queries:
            return self.query_encoder.embed([text])[0]
        if text not in self._query_cache:
            if len(self._query_cache) >= 4096:
                self._query_cache.pop(next(iter(self._query_cache)))  # oldest first
            self._query_cache[text] = self.query_encoder.embed([text])[0]
        return self._query_cache[text]

    @staticmethod
    def query_colors(text: str, filters: SearchFilters) -> list[str]:
        """Basic colours a plain query names, negated ones ("not <colour>") left out; the turn
        reader passes its own (`SearchRequest.colors`), knowing a product phrase's colour
        word is none."""
        lang = language()
        toks = words(text)
        negated = {basic_color(toks[i + 1]) for i, t in enumerate(toks[:-1]) if t in lang.negators}
        named = [basic_color(w) for w in toks]
        for key, values in filters.exclude_facets.items():
            if lang.is_color_key(key):
                negated |= {basic_color(v) for v in values}
        for key, values in filters.facets.items():
            if lang.is_color_key(key):
                named += [basic_color(v) for v in values]
        return [c for c in dict.fromkeys(named) if c and c not in negated]

    def _color(self, colors: list[str], allowed: np.ndarray) -> Ranking:
        # the index's own column order: an index built before the colour list changed
        # still answers for the colours it has
        names = self.index.manifest.colors or list(basic_colors())
        columns = [names.index(c) for c in colors if c in names]
        if not columns:
            return Ranking(rows=np.zeros(0, dtype=np.int64), scores=np.zeros(0))
        rows = np.flatnonzero(allowed & self.index.vectors.has_image)
        share = self.index.vectors.color[:, columns].max(axis=1)[rows]  # columns first: few
        return top_rows(share, rows, self.tuning.fetch, min_score=0.05)

    def _photo(self, path: Path, allowed: np.ndarray) -> Ranking:
        if self.image_encoder is None:
            raise ValueError("this index was built without an image model (image_model='none')")
        try:
            image = open_image(path, self.index.config.max_photo_pixels)
        except PhotoTooLargeError:
            raise
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the query photo {path}: {exc}") from exc
        query = self.image_encoder.encode([image]).visual[0]
        vectors = self.index.vectors
        n_photos = len(vectors.photo_digests)
        if n_photos >= self.tuning.exact_below:
            name = self.index.manifest.collection(PHOTOS)
            digests, _ = self.index.store.query(name, query, self.tuning.fetch * 20)
            photo_sims = np.full(n_photos, -np.inf, np.float32)
            at = self._photo_index
            found = [at[d] for d in digests if d in at]
            photo_sims[found] = vectors.photo_visual[found] @ query
        else:
            photo_sims = np.asarray(vectors.photo_visual @ query, dtype=np.float32)
        product_sims = np.full(len(allowed), -np.inf, np.float32)
        np.maximum.at(product_sims, vectors.pair_product, photo_sims[vectors.pair_photo])
        rows = np.flatnonzero(allowed & np.isfinite(product_sims))
        return top_rows(product_sims[rows], rows, self.tuning.fetch)

    @functools.cached_property
    def _photo_index(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.index.vectors.photo_digests)}

    # ---- records -------------------------------------------------------------------------
    def _candidates(self, fused, request: SearchRequest) -> list[Candidate]:
        head = fused[: request.k]
        products = self.index.products([row for row, _, _ in head])
        filters = request.filters
        out = []
        for (_, score, detail), product in zip(head, products, strict=True):
            # Belt and braces: the vectorised filter is tested against this rule, and a
            # product that broke it would never be shown.
            if filters.has_variant_constraints() or not filters.price.is_open():
                # the variants that match are kept for the card: checked once, not twice
                if not product_listed(product, filters):
                    continue
                variants = matching_variants(product, filters)
                if not variants:
                    continue
            elif product_matches(product, filters):
                variants = []
            else:
                continue
            out.append(
                Candidate(
                    product=product,
                    score=score,
                    signals={k: SignalScore(rank=r, score=s) for k, (r, s) in detail.items()},
                    matching_variants=variants,
                )
            )
        return out
