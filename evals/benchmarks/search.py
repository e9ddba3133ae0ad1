"""Search benchmark: ingestion throughput, and hybrid search latency at 10k and 100k
products next to plain Chroma `query(where=...)` on the same data, in the same run.

    python -m evals.benchmarks.search                       # 10k and 100k (about 20 minutes here)
    python -m evals.benchmarks.search --set grocery --sizes 10000 --queries 20

The large catalogs expand an eval set's catalog (titles, attribute and option values,
prices vary; `--set`, default luma) and time the queries and filters of its `bench.toml`
(evals/benchmarks/scripts.py). They reuse the catalog's vectors: each expanded product takes
its source product's text vector plus a little noise, and its photos are the source's
photos (encoded once, by digest). Real embedding speed is measured separately on a sample
(`--sample`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from retrieval.config import RetrievalConfig
from retrieval.index import TEXT, ProductIndex
from retrieval.ingest import ingest
from retrieval.loaders import load_catalog
from retrieval.schema import Product, SearchRequest, Variant
from retrieval.search import HybridSearcher, SearchTuning
from retrieval.text_embedder import TextEmbedder, product_text
from retrieval.vector_store import chroma_where

from ..sets import load_set
from .scripts import SearchScript, script_for

REPO = Path(__file__).resolve().parents[2]


def expand_catalog(
    base: list[Product], n: int, out: Path, prefixes: list[str], seed: int = 0
) -> Path:
    """Write an `n`-product JSONL catalog derived from `base`: each product's title gets a
    prefix and a number, its price varies, some attribute values and one value of each
    variant option are redrawn from the values the catalog itself uses for that key."""
    rng = random.Random(seed)
    attr_pool = _pools(p.attributes for p in base)
    option_pool = _pools(p.variant_options for p in base)
    with out.open("w") as f:
        for i in range(n):
            src = base[i % len(base)]
            price = round(float(src.price or 20) * rng.uniform(0.6, 1.5), 2)
            attrs = {}
            for key, values in src.attributes.items():
                pool = attr_pool[key]
                if len(pool) > len(values) + 1 and rng.random() < 0.5:
                    values = rng.sample(pool, len(values))
                attrs[key] = values
            options = {}
            for key, values in src.variant_options.items():
                kept = rng.sample(values, max(1, len(values) - 1))
                options[key] = sorted(set(kept + [rng.choice(option_pool[key])]))
            variants = (
                [
                    Variant(options=dict(zip(options, combo, strict=True)), price=price)
                    for combo in itertools.product(*options.values())
                ]
                if options
                else []
            )
            product = src.model_copy(
                update={
                    "id": f"{src.id}~{i}",
                    "title": f"{rng.choice(prefixes)} {src.title} {rng.randint(1, 999)}",
                    "price": price,
                    "list_price": None,
                    "attributes": attrs,
                    "variant_options": options,
                    "variants": variants,
                    "reviews": [],
                }
            )
            f.write(product.model_dump_json() + "\n")
    return out


def _pools(maps) -> dict[str, list[str]]:
    pools: dict[str, set[str]] = {}
    for m in maps:
        for key, values in m.items():
            pools.setdefault(key, set()).update(values)
    return {k: sorted(v) for k, v in pools.items()}


class ReusedTextVectors(TextEmbedder):
    """Each expanded product's text vector is its source product's vector plus noise, so a
    100k index builds in minutes on 2 cores (real embedding speed is measured apart)."""

    def __init__(
        self, real: TextEmbedder, base_vectors: dict[str, np.ndarray], titles: dict[str, str]
    ):
        super().__init__(real.model_ref, real.device, real.batch_size)
        self.base_vectors, self.by_title = base_vectors, titles
        self.rng = np.random.default_rng(0)

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = super().embed(texts) if not all("\n" in t for t in texts) else None
        if out is not None:  # not product documents (the ConSE class names): embed for real
            return out
        vectors = []
        for text in texts:
            title = text.split("\n", 1)[0].split(" ", 1)[1].rsplit(" ", 1)[0]
            base = self.base_vectors[self.by_title[title]]
            vec = base + self.rng.normal(0, 0.02, len(base))
            vectors.append(vec / np.linalg.norm(vec))
        return np.asarray(vectors, dtype=np.float32)


class Shop(BaseModel):
    """The catalog an eval set names, its photos folder and its search script."""

    catalog: Path
    images: Path | None
    products: list[Product]
    script: SearchScript

    @classmethod
    def load(cls, name: str) -> Shop:
        eval_set = load_set(name)
        if eval_set.catalog is None:
            raise SystemExit(f"eval set {name!r} names no catalog in its set.toml")
        products, _ = load_catalog(eval_set.catalog)
        images = eval_set.catalog.parent / "images"
        return cls(
            catalog=eval_set.catalog,
            images=images if images.is_dir() else None,
            products=products,
            script=script_for(eval_set, "search"),
        )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def bench_size(n: int, workdir: Path, base_index: ProductIndex, shop: Shop, n_queries: int) -> dict:
    catalog = expand_catalog(
        shop.products, n, workdir / f"catalog-{n}.jsonl", shop.script.title_prefixes
    )
    config = RetrievalConfig(index_dir=workdir / f"index-{n}", device="cpu")
    base_products = shop.products
    base_vectors = {
        pid: np.asarray(base_index.vectors.text[row]) for pid, row in base_index.row_of.items()
    }
    titles = {p.title: p.id for p in base_products}
    embedder = ReusedTextVectors(TextEmbedder(device="cpu"), base_vectors, titles)
    t0 = time.perf_counter()
    report = ingest(catalog, config, images_dir=shop.images, progress=False, text_embedder=embedder)
    build_s = time.perf_counter() - t0

    index = ProductIndex(config)
    # cold queries: no cached query embeddings, so every search embeds its text
    searcher = HybridSearcher(index, tuning=SearchTuning(cache_queries=False))
    exact = HybridSearcher(index, tuning=SearchTuning(exact_below=10**12))
    col = index.store.collection(index.manifest.collection(TEXT))
    script = shop.script.queries
    queries = (script * (n_queries // len(script) + 1))[:n_queries]
    vectors = {q: searcher.text_embedder.embed([q])[0] for q in set(queries)}
    results: dict[str, dict] = {}
    for name, filters in shop.script.filters.items():
        ours, ours_no_embed, chroma, recall = [], [], [], []
        where = chroma_where(filters) if not filters.is_empty() else None
        baseline = "ours only" not in name
        for q in queries:  # alternate the two, so machine noise hits both alike
            if baseline:
                t = time.perf_counter()
                col.query(query_embeddings=vectors[q][None, :], n_results=10, where=where)
                chroma.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            got = searcher.search(SearchRequest(text=q, filters=filters, k=10))
            ours.append((time.perf_counter() - t) * 1000)
            ours_no_embed.append(got.timings_ms["total_ms"] - got.timings_ms.get("embed_ms", 0))
            truth = exact.search(SearchRequest(text=q, filters=filters, k=10))
            want = {c.product.id for c in truth.candidates}
            have = {c.product.id for c in got.candidates}
            recall.append(len(want & have) / max(1, len(want)))
        results[name] = {
            "allowed": int(index.facets.mask(filters).sum()),
            "hybrid_p50": pct(ours, 50),
            "hybrid_p95": pct(ours, 95),
            "hybrid_no_embed_p50": pct(ours_no_embed, 50),
            "hybrid_no_embed_p95": pct(ours_no_embed, 95),
            "chroma_p50": pct(chroma, 50) if chroma else None,
            "chroma_p95": pct(chroma, 95) if chroma else None,
            "recall_at_10": statistics.mean(recall),
        }
    return {
        "n": n,
        "build_s": build_s,
        "photos_encoded": report.photos_encoded,
        "store_s": report.store_seconds,
        "searches": results,
    }


def bench_ingest_sample(sample: int, workdir: Path, text_model: str, shop: Shop) -> dict:
    """Real embedding speed: `sample` products' text."""
    catalog = expand_catalog(
        shop.products,
        sample,
        workdir / f"sample-{text_model}.jsonl",
        shop.script.title_prefixes,
        seed=1,
    )
    products, _ = load_catalog(catalog)
    embedder = TextEmbedder(text_model, device="cpu")
    embedder.embed(["warm-up"])
    t0 = time.perf_counter()
    embedder.embed([product_text(p) for p in products])
    text_rate = len(products) / (time.perf_counter() - t0)
    return {"text_model": text_model, "dim": embedder.dim, "products_per_s": text_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="luma", help="eval set whose catalog and script to use")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--sample", type=int, default=500, help="products for the embedding speed")
    parser.add_argument("--text-models", nargs="+", default=["minilm", "mpnet"])
    parser.add_argument(
        "--out", type=Path, default=REPO / "evals" / "results" / "bench_search.json"
    )
    args = parser.parse_args()
    shop = Shop.load(args.set)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        base_config = RetrievalConfig(index_dir=workdir / "base", device="cpu")
        t0 = time.perf_counter()
        base = ingest(shop.catalog, base_config, images_dir=shop.images, progress=False)
        image_rate = base.photos_encoded / base.image_seconds if base.photos_encoded else None
        print(
            f"{args.set} catalog: {base.indexed} products, {base.photos_encoded} photos in "
            f"{time.perf_counter() - t0:.1f} s; photos/s (EfficientNet-Lite0 + ConSE + colour): "
            + (f"{image_rate:.1f}" if image_rate else "— (no photos)")
        )
        embed = [bench_ingest_sample(args.sample, workdir, m, shop) for m in args.text_models]
        for e in embed:
            print(
                f"text embedding {e['text_model']} ({e['dim']}-d): "
                f"{e['products_per_s']:.1f} products/s"
            )
        sizes = [
            bench_size(n, workdir, ProductIndex(base_config), shop, args.queries)
            for n in args.sizes
        ]

    print(
        "\n| products | filter | allowed | hybrid p50 / p95 ms "
        "| hybrid w/o query embedding p50 / p95 ms "
        "| plain Chroma query(where) p50 / p95 ms | recall@10 vs exact |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        for name, r in size["searches"].items():
            chroma = f"{r['chroma_p50']:.1f} / {r['chroma_p95']:.1f}" if r["chroma_p50"] else "—"
            print(
                f"| {size['n']:,} | {name} | {r['allowed']:,} "
                f"| {r['hybrid_p50']:.1f} / {r['hybrid_p95']:.1f} "
                f"| {r['hybrid_no_embed_p50']:.1f} / {r['hybrid_no_embed_p95']:.1f} "
                f"| {chroma} | {r['recall_at_10']:.3f} |"
            )
        print(
            f"|   | ingest ({size['n']:,}, vectors reused) | | {size['build_s']:.0f} s total, "
            f"{size['n'] / size['build_s']:.0f} products/s | | | |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"set": args.set, "image_photos_per_s": image_rate, "text": embed, "sizes": sizes},
            indent=2,
        )
    )
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
