"""`aisle ingest`: validate, embed and index a catalog, incrementally.

Unchanged products (same content hash, photos' bytes included) keep their vectors;
changed ones are re-embedded and updated; products gone from the file are deleted.
Photos are keyed by the digest of their bytes, so a photo shared by products, or kept
across ingests, is encoded once.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from base.faults import fault_point
from base.stores import StoreUnavailableError, why_unwritable

from .color import basic_colors, color_distribution
from .config import RetrievalConfig
from .facets import FacetIndex
from .image_embedder import MAX_PIXELS, ImageEncoder, make_image_encoder, open_image
from .index import (
    IMAGE_TEXT,
    PENDING,
    PHOTOS,
    TEXT,
    Manifest,
    ProductIndex,
    VectorArrays,
    collection_names,
)
from .lexical import LexicalIndex
from .lexicon import Lexicon, read_shop_synonyms
from .loaders import CatalogFormatError, header_of, load_catalog
from .mapping import find_mapping
from .models import all_cores, resolve_device
from .schema import Product, RowError
from .text_embedder import TextEmbedder, product_text
from .vector_store import product_metadata

WEB_PHOTO_PX = 640  # long side of the copies the UI shows


class MissingImage(BaseModel):
    product_id: str
    image: str
    reason: str


class FacetType(BaseModel):
    key: str
    type: str  # categorical | numeric | flag | tag list | free text | identifier
    values: int
    products: int
    why: str


class IngestReport(BaseModel):
    catalog: str
    index_dir: str
    rows_read: int = 0
    indexed: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    hidden: int = 0  # indexed, but sold only as part of another product
    skipped: list[RowError] = Field(default_factory=list)
    missing_images: list[MissingImage] = Field(default_factory=list)
    texts_embedded: int = 0
    text_precision: str = "fp32"  # bf16 where the hardware has units for it (checked)
    photos_encoded: int = 0
    photos_reused: int = 0
    photos_downloaded: int = 0  # by URL, this ingest
    photos_revalidated: int = 0  # by URL, unchanged since the last ingest (not downloaded)
    seconds: float = 0.0
    text_seconds: float = 0.0
    image_seconds: float = 0.0
    store_seconds: float = 0.0
    facets: list[FacetType] = Field(default_factory=list)  # each attribute's type, and why


@all_cores  # turns in this process may use fewer (`configure_threads`); a batch job all
def ingest(
    catalog: Path,
    config: RetrievalConfig,
    images_dir: Path | None = None,
    progress: bool = True,
    index: ProductIndex | None = None,
    text_embedder: TextEmbedder | None = None,
    mapping: Path | None = None,
    lexicon_file: Path | None = None,
    rebuild: bool = False,
) -> IngestReport:
    """`text_embedder` replaces the configured one (the benchmark reuses vectors with it).
    `mapping`: how to read the catalog's columns (default: `<catalog>.mapping.toml` beside
    it); `lexicon_file`: the shop's own synonyms (default: `<catalog>.lexicon.toml`);
    `rebuild`: embed everything again rather than keep what looks unchanged.

    A disk that is full, read-only or not writable ends it with one sentence naming the
    folder; the live index is the one before (the new generation is never made current)."""
    index = index or ProductIndex(config)
    try:
        return _ingest(
            Path(catalog), config, images_dir, progress, index, text_embedder, mapping,
            lexicon_file, rebuild,
        )  # fmt: skip
    except (CatalogFormatError, StoreUnavailableError):
        raise
    except Exception as exc:
        if why := why_unwritable(exc, index.dir):
            raise IndexWriteError(
                f"the index at {index.dir} cannot be written: {why}. The live index is "
                "unchanged; make room (or make the folder writable) and run the ingest again."
            ) from exc
        raise


class IndexWriteError(StoreUnavailableError):
    """The index folder refused a write (full, read-only, not permitted)."""


def _ingest(
    catalog, config, images_dir, progress, index, text_embedder, mapping, lexicon_file, rebuild
) -> IngestReport:
    started = time.perf_counter()
    # read once: the rows and the attribute types (a standard feed is known by its header)
    found = find_mapping(catalog, mapping, header_of(catalog))
    products, errors = _read(catalog, found)
    if lexicon_file is None and catalog.with_suffix(".lexicon.toml").is_file():
        lexicon_file = catalog.with_suffix(".lexicon.toml")
    synonyms = read_shop_synonyms(lexicon_file)
    index.store.client  # noqa: B018 - fail now, naming the store, rather than after embedding
    report = IngestReport(
        catalog=str(catalog),
        index_dir=str(index.dir),
        skipped=errors,
        rows_read=len(products) + len(errors),
    )
    if images_dir is None and (catalog.parent / "images").is_dir():
        images_dir = catalog.parent / "images"
    plan = _Plan(index, config, rebuild)
    device = resolve_device(config.device)
    # Photos by URL download while the text model loads and the texts are embedded: a
    # product's text vector does not wait for its photos (the network's time is hidden).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aisle-fetch") as pool:
        fetching = pool.submit(_fetch_photos, products, config, index.dir, progress, report)
        text_embedder = text_embedder or TextEmbedder(
            config.text_model,
            device=device,
            batch_size=config.batch_size,
            max_tokens=config.text_max_tokens,
            precision=config.text_precision,
        )
        t0 = time.perf_counter()
        texts = [product_text(p) for p in products]
        text_vecs, report.texts_embedded = _text_vectors(
            texts, products, plan, text_embedder, progress
        )
        report.text_seconds = time.perf_counter() - t0
        fetched = fetching.result()
    photo_paths, digests = _find_photos(products, images_dir, report, fetched)
    plan.settle(products, digests)
    plan.count(products, report)
    # no photo to encode: the image model is never loaded (most product feeds have none)
    encoder = (
        make_image_encoder(config.image_model, text_embedder, device=device)
        if photo_paths
        else None
    )

    t0 = time.perf_counter()
    photos = _encode_photos(
        encoder, photo_paths, digests, plan.old_vectors, config, progress, report, index.photos_dir
    )
    # the page's copies of the photos not decoded above (reused vectors, a copy missing)
    save_web_photos(photo_paths, digests, index.photos_dir, config.max_photo_pixels)
    report.image_seconds = time.perf_counter() - t0
    vectors = _assemble(products, photo_paths, digests, text_vecs, photos, encoder is not None)
    fault_point("embedded")

    t0 = time.perf_counter()
    lexicon = Lexicon.build(products, synonyms, found.types if found else None)
    report.text_precision = text_embedder.precision
    _write_stores(index, config, catalog, products, texts, plan, vectors, lexicon, report)
    report.facets = [
        FacetType(key=f.key, type=f.type, values=len(f.values), products=f.products, why=f.why)
        for f in lexicon.facets.values()
    ]
    report.store_seconds = time.perf_counter() - t0
    report.indexed = len(products)
    report.seconds = time.perf_counter() - started
    return report


def _read(catalog: Path, found) -> tuple[list[Product], list[RowError]]:
    products, errors = load_catalog(catalog, found)
    if not products:  # never replace a shop's index with nothing
        first = f"; line {errors[0].line}: {errors[0].reason}" if errors else ""
        raise CatalogFormatError(
            f"{catalog.name}: no product could be read ({len(errors)} rows skipped{first}); "
            "the index was left as it was"
        )
    return products, errors


class _Plan:
    """What this ingest keeps, embeds again and where it writes: products whose content
    hash is unchanged keep their vectors, unless the models changed or a rebuild is asked.
    Made before the photos are downloaded (`text_kept`), settled once their digests are
    known (`settle`)."""

    def __init__(self, index, config, rebuild: bool) -> None:
        old = index.stored_hashes()
        self.old_manifest = index.manifest if index.exists() else None
        same_models = self.old_manifest is not None and (
            self.old_manifest.text_model == config.text_model
            and self.old_manifest.text_max_tokens == config.text_max_tokens
            and self.old_manifest.image_model == config.image_model
            and self.old_manifest.colors == list(basic_colors())
        )
        # Chroma is shared with the live generation: a change of model fills new collections
        self.collections = (
            {role: self.old_manifest.collection(role) for role in (TEXT, IMAGE_TEXT, PHOTOS)}
            if same_models
            else collection_names(
                config.text_model, config.image_model, list(basic_colors()), config.text_max_tokens
            )
        )
        if rebuild or not same_models:
            old = {}
        if not same_models:
            for role in (TEXT, IMAGE_TEXT, PHOTOS):
                index.store.drop(self.collections[role])  # a crashed ingest's partial fill
        self.old_vectors = index.vectors if old else None
        # ids an ingest wrote to Chroma and then crashed: Chroma may hold vectors the live
        # generation does not, so they are written again whatever their hash says
        for pid in _pending(index):
            old.pop(pid, None)
        self.old = old  # product id → (row in the old vectors, content hash)
        self.hashes: list[str] = []
        self.keep: set[str] = set()
        self.changed: list[int] = []
        # product id → (its photos' digests, its hash with them), from `text_kept`, so a
        # product whose photos did not change is not hashed a second time by `settle`
        self._hashed: dict[str, tuple[tuple[str, ...], str]] = {}

    def text_kept(self, products: list[Product]) -> set[str]:
        """Products whose text vector is kept, known before any photo is downloaded: those
        whose hash, with the digests their photos had last time, is the stored one (nothing
        of the product changed; a photo whose bytes changed is the photo stage's concern)."""
        refs = self.old_vectors.photo_refs if self.old_vectors is not None else {}
        for p in products:
            if p.id in self.old:
                self._hashed[p.id] = (_digests_of(p, refs), p.content_hash(refs))
        return {pid for pid, (_, h) in self._hashed.items() if self.old[pid][1] == h}

    def settle(self, products: list[Product], digests: dict[str, str]) -> None:
        self.hashes = [self._hash(p, digests) for p in products]
        self.keep = {
            p.id
            for p, h in zip(products, self.hashes, strict=True)
            if self.old.get(p.id, (0, ""))[1] == h
        }
        self.changed = [i for i, p in enumerate(products) if p.id not in self.keep]

    def _hash(self, product: Product, digests: dict[str, str]) -> str:
        known = self._hashed.get(product.id)
        if known and known[0] == _digests_of(product, digests):
            return known[1]
        return product.content_hash(digests)

    def count(self, products: list[Product], report: IngestReport) -> None:
        report.unchanged = len(self.keep)
        report.updated = sum(1 for i in self.changed if products[i].id in self.old)
        report.added = len(self.changed) - report.updated
        report.removed = len(set(self.old) - {p.id for p in products})
        report.hidden = sum(not p.visible for p in products)


def _digests_of(product: Product, digests: dict[str, str]) -> tuple[str, ...]:
    return tuple(digests.get(ref, "") for ref in product.images)  # as content_hash reads them


def _text_vectors(
    texts, products, plan: _Plan, embedder: TextEmbedder, progress: bool
) -> tuple[np.ndarray, int]:
    """Each product's text vector: the old one where it is kept, else embedded now; and how
    many were embedded."""
    kept = plan.text_kept(products)
    vecs = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, p in enumerate(products):
        if p.id in kept:
            vecs[i] = plan.old_vectors.text[plan.old[p.id][0]]
    todo = [i for i, p in enumerate(products) if p.id not in kept]
    if todo:
        vecs[todo] = embedder.embed([texts[i] for i in todo], progress=progress)
    return vecs, len(todo)


def _write_stores(index, config, catalog, products, texts, plan: _Plan, vectors, lexicon, report):
    """Chroma first (the ids marked pending until the generation is written), then the new
    generation in one write; then what no generation uses is pruned."""
    facets = FacetIndex.build(products)
    lexical = LexicalIndex.build(texts)
    _mark_pending(index, [products[i].id for i in plan.changed])
    fault_point("pending-marked")
    _upsert_chroma(index, plan.collections, products, plan.changed, vectors, plan.old_vectors)
    fault_point("chroma-written")
    manifest = Manifest(
        text_model=config.text_model,
        text_max_tokens=config.text_max_tokens,
        text_precision=report.text_precision,
        text_dim=vectors.text.shape[1],
        image_model=config.image_model,
        visual_dim=vectors.photo_visual.shape[1],
        text_space_dim=vectors.image_text.shape[1],
        products=len(products),
        photos=len(vectors.photo_digests),
        colors=list(basic_colors()),
        collections=plan.collections,
        catalog=str(catalog.resolve()),
        currency=lexicon.currency,
    )
    index.write(products, plan.hashes, manifest, facets, lexical, vectors, lexicon)
    _prune_chroma(index, manifest, plan.old_manifest, vectors)
    (index.dir / PENDING).unlink(missing_ok=True)
    fault_point("done")


def _fetch_photos(products, config: RetrievalConfig, index_dir: Path, progress, report):
    """Photos given by URL, downloaded (or revalidated) into the index's photo cache: URL →
    the file, or why it could not be had."""
    urls = list(dict.fromkeys(r for p in products for r in p.images if _remote(r)))
    if not urls or not config.fetch_images:
        return {}
    from .photo_fetch import PhotoFetcher

    fetcher = PhotoFetcher(
        index_dir / "photo-cache",
        allow_private=config.fetch_allow_private,
        max_bytes=config.fetch_max_mb * 1024 * 1024,
        timeout_s=config.fetch_timeout_s,
        workers=config.fetch_workers,
        max_pixels=config.max_photo_pixels,
    )
    found = fetcher.fetch_all(urls, progress)
    report.photos_downloaded, report.photos_revalidated = fetcher.downloaded, fetcher.revalidated
    return found


def _remote(ref: str) -> bool:
    return ref.startswith(("http://", "https://"))


def _local_photo(ref: str, images_dir: Path | None) -> Path:
    """A photo named by path: as given when absolute (or no folder), else in the folder."""
    if Path(ref).is_absolute() or images_dir is None:
        return Path(ref)
    return images_dir / ref


def _find_photos(
    products: list[Product],
    images_dir: Path | None,
    report: IngestReport,
    fetched: dict[str, Path | str] | None = None,
) -> tuple[dict[str, Path], dict[str, str]]:
    """image reference → file, and image reference → digest of its bytes. A reference by
    URL is its downloaded copy (`fetched`), or reported with why there is none."""
    paths: dict[str, Path] = {}
    digests: dict[str, str] = {}
    fetched = fetched or {}
    for product in products:
        for ref in product.images:
            if ref in digests:
                continue
            if _remote(ref) and not isinstance(fetched.get(ref), Path):
                reason = fetched.get(ref) or "remote image not fetched (--no-fetch-images)"
                report.missing_images.append(
                    MissingImage(product_id=product.id, image=ref, reason=str(reason))
                )
                digests[ref] = ""
                continue
            path = fetched[ref] if _remote(ref) else _local_photo(ref, images_dir)
            try:
                digests[ref] = hashlib.sha1(path.read_bytes()).hexdigest()
                paths[ref] = path
            except OSError as exc:
                reason = "file not found" if isinstance(exc, FileNotFoundError) else str(exc)
                report.missing_images.append(
                    MissingImage(product_id=product.id, image=ref, reason=reason)
                )
                digests[ref] = ""
    return paths, digests


class _Photos(BaseModel, arbitrary_types_allowed=True):
    digests: list[str]
    visual: np.ndarray
    text: np.ndarray
    color: np.ndarray
    new: list[str]  # digests encoded in this run


def _encode_photos(
    encoder: ImageEncoder | None,
    photo_paths: dict[str, Path],
    digests_of: dict[str, str],
    old_vectors: VectorArrays | None,
    config: RetrievalConfig,
    progress: bool,
    report: IngestReport,
    web_dir: Path | None = None,
) -> _Photos:
    """`web_dir`: where the page's copy of each photo decoded here is written, from the
    decoded image (no second decoding)."""
    from tqdm.auto import tqdm

    by_digest: dict[str, Path] = {}
    for ref, path in photo_paths.items():
        by_digest.setdefault(digests_of[ref], path)
    if encoder is None:
        return _Photos(
            digests=[],
            visual=np.zeros((0, 0), np.float32),
            text=np.zeros((0, 0), np.float32),
            color=np.zeros((0, len(basic_colors()))),
            new=[],
        )
    old_at = {d: i for i, d in enumerate(old_vectors.photo_digests)} if old_vectors else {}
    digests, visual, text, color, new = [], [], [], [], []
    for d in by_digest:
        if d in old_at:
            i = old_at[d]
            digests.append(d)
            visual.append(old_vectors.photo_visual[i])
            text.append(old_vectors.photo_text[i])
            color.append(old_vectors.photo_color[i])
    report.photos_reused = len(digests)
    todo = [d for d in by_digest if d not in old_at]
    size, most = config.batch_size, config.max_photo_pixels
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    bar = tqdm(total=len(todo), desc="photos", unit="photo", disable=not progress)
    # The next batch is decoded (and its colours measured) in a thread while this one is
    # encoded: PIL's decoders and the encoder's kernels both release the GIL, and on a GPU
    # the decoding would otherwise be most of the photo stage.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aisle-decode") as pool:
        ahead = pool.submit(_decode, batches[0], by_digest, most, web_dir) if batches else None
        for i in range(len(batches)):
            batch, images, colours, missing = ahead.result()
            if i + 1 < len(batches):
                ahead = pool.submit(_decode, batches[i + 1], by_digest, most, web_dir)
            report.missing_images += missing
            if images:
                feats = encoder.encode(images)
                digests += batch
                new += batch
                visual += list(feats.visual)
                text += list(feats.text_space)
                color += colours
            bar.update(len(batches[i]))
    bar.close()
    report.photos_encoded = len(new)
    # a catalog without photos still has image columns of the encoder's width (zero rows)
    widths = (len(visual[0]), len(text[0])) if visual else (0, 0)
    return _Photos(
        digests=digests,
        visual=np.asarray(visual, np.float32).reshape(len(visual), widths[0]),
        text=np.asarray(text, np.float32).reshape(len(text), widths[1]),
        color=np.asarray(color, np.float32).reshape(len(color), len(basic_colors())),
        new=new,
    )


def _decode(
    digests: list[str], by_digest: dict[str, Path], max_pixels: int, web_dir: Path | None = None
):
    """One batch of photos opened and decoded, with their colour distributions (and, with
    `web_dir`, the page's copy of each written); an unreadable file is reported, not fatal."""
    batch, images, colours, missing = [], [], [], []
    for d in digests:
        try:
            image = open_image(by_digest[d], max_pixels)
        except (OSError, ValueError) as exc:
            reason = f"unreadable: {exc}"
            missing.append(MissingImage(product_id="", image=str(by_digest[d]), reason=reason))
            continue
        batch.append(d)
        images.append(image)
        colours.append(color_distribution(image))
        if web_dir is not None and not (web_dir / f"{d}.jpg").exists():
            _web_copy(image.copy(), web_dir / f"{d}.jpg")
    return batch, images, colours, missing


def save_web_photos(
    photo_paths: dict[str, Path],
    digests: dict[str, str],
    folder: Path,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """A small JPEG of every photo, named by digest, kept in the index folder: the UI serves
    photos from there, so an index works without the catalog's image folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for ref, path in photo_paths.items():
        target = folder / f"{digests[ref]}.jpg"
        if target.exists():
            continue
        try:
            image = open_image(path, max_pixels)
        except (OSError, ValueError):  # already reported by the encoder pass
            continue
        _web_copy(image, target)


def _web_copy(image, target: Path) -> None:
    """The page's small JPEG of a photo, written whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    image.thumbnail((WEB_PHOTO_PX, WEB_PHOTO_PX))
    tmp = target.with_suffix(f".{threading.get_ident()}.tmp.jpg")
    image.convert("RGB").save(tmp, quality=85)
    tmp.replace(target)


def _assemble(
    products: list[Product],
    photo_paths: dict[str, Path],
    digests: dict[str, str],
    text_vecs: np.ndarray,
    photos: _Photos,
    with_images: bool,
) -> VectorArrays:
    at = {d: i for i, d in enumerate(photos.digests)}
    pair_product, pair_photo = [], []
    for row, product in enumerate(products):
        seen = set()
        for ref in product.images:
            i = at.get(digests.get(ref, ""))
            if ref in photo_paths and i is not None and i not in seen:
                seen.add(i)
                pair_product.append(row)
                pair_photo.append(i)
    pair_product = np.asarray(pair_product, np.int32)
    pair_photo = np.asarray(pair_photo, np.int32)
    n, d = len(products), photos.text.shape[1] if with_images else 0
    image_text = np.zeros((n, d), np.float32)
    color = np.zeros((n, len(basic_colors())), np.float32)
    if len(pair_product):
        np.add.at(image_text, pair_product, photos.text[pair_photo])
        np.maximum.at(color, pair_product, photos.color[pair_photo])
    has_image = np.zeros(n, bool)
    has_image[pair_product] = True
    norms = np.linalg.norm(image_text, axis=1, keepdims=True)
    image_text = np.where(norms > 0, image_text / np.maximum(norms, 1e-12), 0).astype(np.float32)
    return VectorArrays(
        text=text_vecs,
        image_text=image_text,
        has_image=has_image,
        color=color,
        photo_visual=photos.visual,
        photo_text=photos.text,
        photo_color=photos.color,
        photo_digests=photos.digests,
        pair_product=pair_product,
        pair_photo=pair_photo,
        photo_refs={r: digests[r] for r in photo_paths if digests.get(r) in at},
    )


def _pending(index: ProductIndex) -> list[str]:
    path = index.dir / PENDING
    return json.loads(path.read_text()) if path.is_file() else []


def _mark_pending(index: ProductIndex, ids: list[str]) -> None:
    """Recorded before Chroma is touched (with what an earlier crashed ingest left)."""
    index.dir.mkdir(parents=True, exist_ok=True)
    ids = sorted({*_pending(index), *ids})
    tmp = index.dir / (PENDING + ".tmp")
    tmp.write_text(json.dumps(ids))
    tmp.replace(index.dir / PENDING)


def _upsert_chroma(
    index: ProductIndex,
    collections: dict[str, str],
    products: list[Product],
    changed: list[int],
    vectors: VectorArrays,
    old_vectors: VectorArrays | None,
) -> None:
    """Add and update only: the live generation keeps every vector it scores with, and ids
    it does not hold are ignored by search until `_prune_chroma` removes them."""
    store = index.store
    ids = [products[i].id for i in changed]
    metas = [product_metadata(products[i]) for i in changed]
    store.upsert(collections[TEXT], ids, vectors.text[changed], metas)
    with_image = [j for j, i in enumerate(changed) if vectors.has_image[i]]
    if vectors.image_text.shape[1]:
        store.upsert(
            collections[IMAGE_TEXT],
            [ids[j] for j in with_image],
            vectors.image_text[[changed[j] for j in with_image]],
            [metas[j] for j in with_image],
        )
    previous = set(old_vectors.photo_digests) if old_vectors is not None else set()
    at = {d: i for i, d in enumerate(vectors.photo_digests)}
    new = [d for d in vectors.photo_digests if d not in previous]
    if new and vectors.photo_visual.shape[1]:
        store.upsert(collections[PHOTOS], new, vectors.photo_visual[[at[d] for d in new]])


def _prune_chroma(
    index: ProductIndex, manifest: Manifest, old: Manifest | None, vectors: VectorArrays
) -> None:
    """Once the new generation is live: every collection holds exactly its ids (a crash
    before this point leaves extra ids, removed by the next ingest), and the collections of
    replaced models go."""
    store = index.store
    keep = {
        TEXT: set(index.ids),
        IMAGE_TEXT: {pid for pid, has in zip(index.ids, vectors.has_image, strict=True) if has},
        PHOTOS: set(vectors.photo_digests),
    }
    for role, wanted in keep.items():
        name = manifest.collection(role)
        stale = [i for i in store.ids(name) if i not in wanted]
        store.delete(name, stale)
    if old is not None:
        for role in (TEXT, IMAGE_TEXT, PHOTOS):
            if old.collection(role) != manifest.collection(role):
                store.drop(old.collection(role))
