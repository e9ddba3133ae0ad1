"""`aisle ingest` end to end against its text encoder alone, on the same product texts.

    python -m evals.bench_ingest [--sets luma vendure grocery] [--rounds 2]

For each eval set's catalog, text only (photos left out: the text path is what every shop
has), alternating in one process: the encoder embedding every product's text (the
baseline: what this CPU can do), then a whole ingest of the same catalog into a new index
folder with that same encoder (reading, validating, embedding, the lexicon, BM25, the
generation's files, Chroma). Prints products/s for both and their ratio; the speed issue
asks for ingest within 10 % of the encoder (ratio ≥ 0.90). Results go to
`evals/results/bench_ingest.json`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from retrieval.config import RetrievalConfig
from retrieval.ingest import ingest
from retrieval.loaders import load_catalog
from retrieval.text_embedder import TextEmbedder, product_text

from .sets import load_set


def text_only(catalog: Path, out: Path) -> int:
    """The catalog as JSONL records without photos; returns how many products."""
    products, _ = load_catalog(catalog)
    with out.open("w", encoding="utf-8") as f:
        for p in products:
            record = p.model_copy(
                update={
                    "images": [],
                    "variants": [v.model_copy(update={"images": []}) for v in p.variants],
                }
            )
            f.write(record.model_dump_json() + "\n")
    return len(products)


def bench_set(name: str, rounds: int, work: Path, embedder: TextEmbedder) -> dict:
    catalog = load_set(name).catalog
    if catalog is None:
        raise SystemExit(f"eval set {name!r} names no catalog in its set.toml")
    plain = work / f"{name}.jsonl"
    n = text_only(catalog, plain)
    texts = [product_text(p) for p in load_catalog(plain)[0]]
    encoder_s, ingest_s = [], []
    for r in range(rounds):
        t = time.perf_counter()
        embedder.embed(texts)
        encoder_s.append(time.perf_counter() - t)
        config = RetrievalConfig(index_dir=work / f"{name}-{r}", device="cpu")
        t = time.perf_counter()
        ingest(plain, config, progress=False, text_embedder=embedder)
        ingest_s.append(time.perf_counter() - t)
    enc, ing = min(encoder_s), min(ingest_s)  # the best of each: the least disturbed run
    return {
        "set": name,
        "products": n,
        "encoder_products_per_s": n / enc,
        "ingest_products_per_s": n / ing,
        "ratio": enc / ing,
        "encoder_s": encoder_s,
        "ingest_s": ingest_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", default=["luma", "vendure", "grocery"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--text-model", default="minilm")
    ap.add_argument("--out", default="evals/results/bench_ingest.json")
    args = ap.parse_args()
    embedder = TextEmbedder(args.text_model, device="cpu")
    embedder.embed(["warm-up"])
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench_set(s, args.rounds, Path(tmp), embedder) for s in args.sets]
    print(f"text ingest against the encoder alone ({args.text_model}, this machine)")
    print(f"{'set':10} {'products':>8} {'encoder /s':>10} {'ingest /s':>10} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['set']:10} {r['products']:>8} {r['encoder_products_per_s']:>10.1f} "
            f"{r['ingest_products_per_s']:>10.1f} {r['ratio']:>6.2f}"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"text_model": args.text_model, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
