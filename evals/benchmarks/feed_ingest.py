"""A product feed with photos by URL, ingested end to end, against its encoders alone.

    python -m evals.benchmarks.feed_ingest [--products 50000] [--set luma]

Builds a feed of N products from an eval set's catalog (its products repeated, each copy
its own id and one photo of the set's folder), serves the photos from a loopback HTTP
server (each product its own URL and bytes, so every photo is a real download and a photo
of its own to encode), and in one process:

1. `aisle ingest` of the feed (downloads, decoding, both encoders, BM25, Chroma, the files),
2. the text encoder alone on the same product texts,
3. the image encoder alone on the same photos, already decoded.

Prints products/s for each, the two encoders one after the other, and ingest's ratio to
them (the feeds issue asks ingest with photos within 15 % of its encoders alone). Results
go to `evals/results/bench_feed_ingest.json`.
"""

from __future__ import annotations

import argparse
import http.server
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

from retrieval.color import color_distribution
from retrieval.config import RetrievalConfig
from retrieval.image_embedder import make_image_encoder, open_image
from retrieval.ingest import ingest
from retrieval.loaders import load_catalog
from retrieval.text_embedder import TextEmbedder, product_text

from ..sets import load_set


def photo_server(folder: Path) -> tuple[multiprocessing.Process, str]:
    """Serves `folder`'s files at /<n>/<name>: every product its own URL, and its own bytes
    (the file with `n` appended after the image's end, which decoders ignore), so ingest
    encodes every photo as a shop's distinct photos would be, not one per distinct file.

    The server is a process of its own, as a shop's photo host is not the ingesting
    process: it takes this machine's cores, not ingest's interpreter lock."""
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(folder, ports), daemon=True)
    server.start()
    return server, f"http://127.0.0.1:{ports.get(timeout=60)}"


def _serve(folder: Path, ports) -> None:

    class Photos(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            path = folder / self.path.rsplit("/", 1)[-1]
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes() + f"\n{self.path.strip('/').split('/')[0]}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg" if path.suffix == ".jpg" else "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    ports.put(httpd.server_address[1])
    httpd.serve_forever()


def write_feed(catalog: Path, photos: list[Path], n: int, base: str, out: Path) -> int:
    products, _ = load_catalog(catalog)
    with out.open("w", encoding="utf-8") as f:
        for i in range(n):
            p = products[i % len(products)]
            row = p.model_dump(mode="json", exclude_defaults=True, exclude={"variants"})
            row["id"] = f"{p.id}-{i}"
            row["images"] = [f"{base}/{i}/{photos[i % len(photos)].name}"]
            f.write(json.dumps(row) + "\n")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=2000)
    ap.add_argument("--set", default="luma", help="an eval set whose catalog has a photo folder")
    ap.add_argument("--out", default="evals/results/bench_feed_ingest.json")
    args = ap.parse_args()
    catalog = load_set(args.set).catalog
    folder = catalog.parent / "images"
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    server, base = photo_server(folder)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            feed = work / "feed.jsonl"
            n = write_feed(catalog, photos, args.products, base, feed)
            config = RetrievalConfig(index_dir=work / "index", fetch_allow_private=True)
            t = time.perf_counter()
            report = ingest(feed, config, progress=False)
            ingest_s = time.perf_counter() - t
            alone = _encoders_alone(feed, photos, n, config)
    finally:
        server.terminate()
    result = _result(n, report, ingest_s, alone)
    _print(result, report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


def _encoders_alone(feed: Path, photos: list[Path], n: int, config) -> dict[str, float]:
    """Seconds for the text encoder on the feed's texts, decoding (with colour) the photos as
    ingest does, and the image encoder on them, decoded."""
    texts = [product_text(p) for p in load_catalog(feed)[0]]
    text = TextEmbedder(
        config.text_model, "cpu", config.batch_size, config.text_max_tokens, config.text_precision
    )
    t = time.perf_counter()
    text.embed(texts)
    text_s = time.perf_counter() - t
    encoder = make_image_encoder(config.image_model, text)
    decode_s = image_s = 0.0
    for start in range(0, n, config.batch_size):  # a batch at a time: 50,000 photos decoded
        t = time.perf_counter()  # at once would not fit in memory
        decoded = []
        for i in range(start, min(n, start + config.batch_size)):  # as ingest does to each
            decoded.append(open_image(photos[i % len(photos)], config.max_photo_pixels))
            color_distribution(decoded[-1])
        decode_s += time.perf_counter() - t
        t = time.perf_counter()
        encoder.encode(decoded)
        image_s += time.perf_counter() - t
    return {"text": text_s, "image": image_s, "decoding": decode_s}


def _result(n: int, report, ingest_s: float, alone: dict[str, float]) -> dict:
    text_s, image_s, decode_s = alone["text"], alone["image"], alone["decoding"]
    return {
        "products": n,
        "downloaded": report.photos_downloaded,
        "photos_encoded": report.photos_encoded,
        "text_precision": report.text_precision,
        "ingest_per_s": n / ingest_s,
        "text_encoder_per_s": n / text_s,
        "image_encoder_per_s": n / image_s,
        "decode_per_s": n / decode_s,
        "encoders_per_s": n / (text_s + image_s),
        "encoders_and_decoding_per_s": n / (text_s + image_s + decode_s),
        "ratio": (text_s + image_s) / ingest_s,
        # ingest's own stages (the downloads run beside the text stage, inside its time)
        "ingest_stages_s": {
            "text (downloads beside it)": report.text_seconds,
            "photos (decoding, encoding, page copies)": report.image_seconds,
            "stores": report.store_seconds,
            "the rest (reading, photo digests, model loading)": report.seconds
            - report.text_seconds
            - report.image_seconds
            - report.store_seconds,
        },
        "encoders_alone_s": alone,
    }


def _print(result: dict, report) -> None:
    print(
        f"{result['products']} products, {report.photos_downloaded} photos downloaded from "
        f"loopback, {report.photos_encoded} encoded (text in {report.text_precision}):\n"
        f"  ingest end to end   {result['ingest_per_s']:8.1f} products/s\n"
        f"  text encoder alone  {result['text_encoder_per_s']:8.1f} /s\n"
        f"  image encoder alone {result['image_encoder_per_s']:8.1f} /s\n"
        f"  both, one by one    {result['encoders_per_s']:8.1f} /s\n"
        f"  decoding alone      {result['decode_per_s']:8.1f} /s (and colour, as ingest does)\n"
        f"  both + decoding     {result['encoders_and_decoding_per_s']:8.1f} /s\n"
        f"  ingest ÷ encoders   {result['ratio']:8.2f} (target ≥ 0.85)\n"
        "  ingest's stages     "
        + ", ".join(f"{k} {v:.1f} s" for k, v in result["ingest_stages_s"].items())
    )


if __name__ == "__main__":
    main()
