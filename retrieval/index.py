"""The index folder: what ingestion writes and search reads.

```
INDEX_DIR/
  CURRENT            the name of the live generation (replaced by one rename)
  chroma-pending.json  ids an ingest wrote to Chroma before it finished (a crash left it)
  gen-000007/        one generation, written whole beside the live one:
    manifest.json      models used, dimensions, counts, Chroma collection names
    products.sqlite    id → row, content hash, the product record (JSON)
    facets.npz/.json   filter columns (`FacetIndex`)
    lexicon.json       the catalog's own words (`Lexicon`)
    lexical/           BM25 (`LexicalIndex`)
    vectors/           row-aligned vectors, for exact search over a filtered subset
  photos/            web copies named by their content digest (shared: a name never changes)
  chroma/            the embedded Chroma store (absent when a Chroma server is used)
```
An ingest writes a new generation, then switches CURRENT to it: a crash at any point
leaves the old generation live or the new one, never a mix, and a reader pins one
generation for its life (`ProductIndex.generation`). Chroma is shared across generations,
so search takes only candidate ids from it and scores them with the generation's own
vectors; ids a generation does not hold are ignored, and ingest removes them once the new
generation is live.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, Field

from base.faults import fault_point

from .config import RetrievalConfig
from .facets import FacetIndex
from .lexical import LexicalIndex
from .lexicon import Lexicon
from .schema import Product
from .vector_store import VectorStore

TEXT, IMAGE_TEXT, PHOTOS = "text", "image-text", "photos"  # Chroma collections, by role
CURRENT = "CURRENT"
PENDING = "chroma-pending.json"  # ids an unfinished ingest wrote to Chroma
GENERATION = re.compile(r"gen-(\d{6})")
# files of an index written before generations, at the folder's top level
LEGACY = ("manifest.json", "products.sqlite", "facets.npz", "facets.json", "lexicon.json")
LEGACY_DIRS = ("lexical", "vectors")


class IndexNotFoundError(FileNotFoundError):
    pass


class Manifest(BaseModel):
    version: int = 1
    text_model: str
    text_dim: int
    text_max_tokens: int | None = None  # the most tokens of a product's text embedded
    text_precision: str = "fp32"  # the arithmetic the product texts were embedded in
    image_model: str
    visual_dim: int = 0
    text_space_dim: int = 0
    products: int = 0
    photos: int = 0
    currency: str = "USD"
    colors: list[str] = Field(default_factory=list)  # the colour columns' order
    catalog: str = ""  # the file it was built from (resolved), e.g. to find its eval set
    # role → Chroma collection; named by the models, so a change of model fills new
    # collections while the old generation keeps its own (empty: the role's own name)
    collections: dict[str, str] = Field(default_factory=dict)

    def collection(self, role: str) -> str:
        return self.collections.get(role, role)


def collection_names(
    text_model: str, image_model: str, colors: list[str], text_max_tokens: int | None = None
) -> dict[str, str]:
    named = [text_model, image_model, *colors] + ([str(text_max_tokens)] if text_max_tokens else [])
    tag = hashlib.sha1("|".join(named).encode()).hexdigest()[:8]
    return {role: f"{role}-{tag}" for role in (TEXT, IMAGE_TEXT, PHOTOS)}


class VectorArrays(BaseModel, arbitrary_types_allowed=True):
    """Row-aligned vectors. Photos are de-duplicated by content digest; `photo_of` maps
    each (product, photo) pair: product row → photo index."""

    text: np.ndarray  # products × text_dim
    image_text: np.ndarray  # products × text-space dim (mean over the product's photos)
    has_image: np.ndarray  # products, bool
    color: np.ndarray  # products × len(basic_colors()) (max over photos)
    photo_visual: np.ndarray  # photos × visual_dim
    photo_text: np.ndarray  # photos × text-space dim
    photo_color: np.ndarray  # photos × len(basic_colors())
    photo_digests: list[str]
    pair_product: np.ndarray  # pairs: product row
    pair_photo: np.ndarray  # pairs: photo index
    photo_refs: dict[str, str] = {}  # the catalog's image reference → digest (found files)

    NAMES: ClassVar[tuple[str, ...]] = (
        "text",
        "image_text",
        "has_image",
        "color",
        "photo_visual",
        "photo_text",
        "photo_color",
        "pair_product",
        "pair_photo",
    )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.NAMES:
            _atomic(folder / f"{name}.npy", lambda p, n=name: np.save(p, getattr(self, n)))
        _atomic(
            folder / "photo_digests.json",
            lambda p: Path(p).write_text(json.dumps(self.photo_digests)),
        )
        _atomic(
            folder / "photo_refs.json", lambda p: Path(p).write_text(json.dumps(self.photo_refs))
        )

    @classmethod
    def load(cls, folder: Path) -> VectorArrays:
        # In memory, not memory-mapped: gathering a filtered subset from a memmap costs
        # several times more (100k × 384 floats is 150 MB).
        arrays = {n: np.load(folder / f"{n}.npy") for n in cls.NAMES}
        digests = json.loads((folder / "photo_digests.json").read_text())
        refs = folder / "photo_refs.json"  # absent in an index written before variant photos
        refs = json.loads(refs.read_text()) if refs.is_file() else {}
        return cls(**arrays, photo_digests=digests, photo_refs=refs)


def _atomic(path: Path, write) -> None:
    """Write to a temporary file, flush it to disk, then rename: a reader never sees half,
    and after a power cut the name holds the old bytes or the new ones."""
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    write(str(tmp))
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        _fsync(path)
    _fsync(folder)


class ProductIndex:
    """Opens the parts of an index folder lazily; share one per process."""

    DECODED_KEPT = 20_000  # product records kept decoded (a few KB each)

    def __init__(self, config: RetrievalConfig):
        self.config = config
        self.dir = Path(config.index_dir).expanduser()
        self._decoded: dict[int, Product] = {}

    # ---- generations ---------------------------------------------------------------------
    def live_generation(self) -> str | None:
        """The generation CURRENT names now: "" for an index written before generations,
        None when there is no index."""
        try:
            return (self.dir / CURRENT).read_text().strip()
        except FileNotFoundError:
            return "" if (self.dir / "manifest.json").is_file() else None

    @functools.cached_property
    def generation(self) -> str:
        """The generation this object reads, pinned at first use: one consistent index for
        its life, whatever an ingest does meanwhile."""
        return self.live_generation() or ""

    @property
    def gen_dir(self) -> Path:
        return self.dir / self.generation if self.generation else self.dir

    def is_stale(self) -> bool:
        """A newer generation went live after this object pinned its own."""
        live = self.live_generation()
        return live is not None and live != self.generation

    def generations(self) -> list[str]:
        return sorted(p.name for p in self.dir.glob("gen-*") if GENERATION.fullmatch(p.name))

    # ---- parts ---------------------------------------------------------------------------
    @functools.cached_property
    def store(self) -> VectorStore:
        if self.config.chroma_url:
            return VectorStore(url=self.config.chroma_url, prefix=self.config.collection_prefix)
        return VectorStore(path=self.dir / "chroma", prefix=self.config.collection_prefix)

    @property
    def photos_dir(self) -> Path:
        return self.dir / "photos"

    @functools.cached_property
    def _photos_by_row(self) -> dict[int, list[str]]:
        v = self.vectors
        out: dict[int, list[str]] = {}
        for row, photo in zip(v.pair_product.tolist(), v.pair_photo.tolist(), strict=True):
            out.setdefault(row, []).append(v.photo_digests[photo])
        return out

    def photo_files(self, product_id: str, refs: list[str] | None = None) -> list[Path]:
        """The product's photos as the index keeps them (main photo first), for display;
        with `refs` (a variant's images, as the catalog names them), those photos first."""
        row = self.row_of.get(product_id)
        digests = self._photos_by_row.get(row, []) if row is not None else []
        known = self.vectors.photo_refs if refs else {}
        first = [d for r in refs or [] if (d := known.get(r)) in digests]
        digests = list(dict.fromkeys([*first, *digests]))
        return [f for d in digests if (f := self.photos_dir / f"{d}.jpg").is_file()]

    def exists(self) -> bool:
        return (self.gen_dir / "manifest.json").is_file()

    def _require(self) -> None:
        if not self.exists():
            raise IndexNotFoundError(
                f"no index in {self.dir}: run `aisle ingest CATALOG` first "
                "(or point --index-dir / AISLE_INDEX_DIR at an existing index)"
            )

    @functools.cached_property
    def manifest(self) -> Manifest:
        self._require()
        return Manifest.model_validate_json((self.gen_dir / "manifest.json").read_text())

    @functools.cached_property
    def facets(self) -> FacetIndex:
        self._require()
        return FacetIndex.load(self.gen_dir)

    @functools.cached_property
    def lexical(self) -> LexicalIndex:
        self._require()
        return LexicalIndex.load(self.gen_dir / "lexical")

    @functools.cached_property
    def vectors(self) -> VectorArrays:
        self._require()
        return VectorArrays.load(self.gen_dir / "vectors")

    @functools.cached_property
    def lexicon(self) -> Lexicon:
        """The catalog's words (built from the products for an index written before the
        lexicon existed)."""
        self._require()
        return Lexicon.load(self.gen_dir) or Lexicon.build(self.all_products())

    def all_products(self) -> list[Product]:
        with self._db() as db:
            rows = db.execute("SELECT record FROM products ORDER BY row").fetchall()
        return [Product.model_validate_json(r[0]) for r in rows]

    @functools.cached_property
    def ids(self) -> list[str]:
        self._require()
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT id FROM products ORDER BY row")]

    @functools.cached_property
    def row_of(self) -> dict[str, int]:
        return {pid: row for row, pid in enumerate(self.ids)}

    # ---- product records -----------------------------------------------------------------
    def _db(self, folder: Path | None = None) -> sqlite3.Connection:
        """The generation's product rows; read-only unless `folder` is a generation being
        written (a reader never creates a file where a generation was)."""
        if folder is None:
            self._require()
            path = self.gen_dir / "products.sqlite"
            if not path.is_file():
                raise IndexNotFoundError(f"{path} is missing: run `aisle ingest --check`")
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db = sqlite3.connect(folder / "products.sqlite")
        db.execute(
            "CREATE TABLE IF NOT EXISTS products "
            "(id TEXT PRIMARY KEY, row INTEGER, hash TEXT, record TEXT)"
        )
        # search fetches its top-k by row: without this index that is a full scan
        db.execute("CREATE INDEX IF NOT EXISTS products_row ON products(row)")
        return db

    def products(self, rows: list[int]) -> list[Product]:
        """The records at `rows`. A generation's rows never change, so decoded records are
        kept (up to `DECODED_KEPT`) and shared: decoding 50 candidates' JSON was a twentieth
        of a turn under load. Callers treat them as read-only."""
        kept = self._decoded
        missing = [r for r in dict.fromkeys(rows) if r not in kept]
        if not missing:
            return [kept[r] for r in rows]
        with self._db() as db:
            marks = ",".join("?" * len(missing))
            found = db.execute(f"SELECT row, record FROM products WHERE row IN ({marks})", missing)
            decoded = {r: Product.model_validate_json(rec) for r, rec in found}
        out = [kept[r] if r in kept else decoded[r] for r in rows]
        if len(kept) + len(decoded) > self.DECODED_KEPT:
            kept = self._decoded = {}  # a catalog larger than the cache: start over, rarely
        kept.update(decoded)
        return out

    def product(self, product_id: str) -> Product | None:
        row = self.row_of.get(product_id)
        return None if row is None else self.products([row])[0]

    @functools.cache  # noqa: B019 - one index object per process; reset by `write`
    def titles(self) -> dict[str, str]:
        """id → title of every product (to spot products named in free text)."""
        with self._db() as db:
            return {
                pid: Product.model_validate_json(r).title
                for pid, r in db.execute("SELECT id, record FROM products")
            }

    def stored_hashes(self) -> dict[str, tuple[int, str]]:
        """id → (row, content hash) of what is indexed now."""
        if not self.exists() or not (self.gen_dir / "products.sqlite").exists():
            return {}
        with self._db() as db:
            return {
                pid: (row, h) for pid, row, h in db.execute("SELECT id, row, hash FROM products")
            }

    def write(
        self,
        products: list[Product],
        hashes: list[str],
        manifest: Manifest,
        facets: FacetIndex,
        lexical: LexicalIndex,
        vectors: VectorArrays,
        lexicon: Lexicon,
    ) -> str:
        """Write a new generation beside the live one (rows = order of `products`), then
        make it live with one rename. Returns its name; this object now reads it."""
        numbers = [int(GENERATION.fullmatch(g).group(1)) for g in self.generations()]
        name = f"gen-{max(numbers, default=0) + 1:06d}"
        folder = self.dir / name
        folder.mkdir(parents=True)
        vectors.save(folder / "vectors")
        fault_point("vectors-written")
        lexical.save(folder / "lexical")
        facets.save(folder)
        lexicon.save(folder)
        with self._db(folder) as db:
            db.executemany(
                "INSERT INTO products VALUES (?, ?, ?, ?)",
                (
                    (p.id, row, h, p.model_dump_json())
                    for row, (p, h) in enumerate(zip(products, hashes, strict=True))
                ),
            )
        db.close()
        (folder / "manifest.json").write_text(manifest.model_dump_json())
        _fsync_tree(folder)
        fault_point("generation-written")
        previous = self.live_generation()
        _atomic(self.dir / CURRENT, lambda p: Path(p).write_text(name))
        fault_point("switched")
        self._pin(name)
        self.collect(keep={name, previous or ""})
        return name

    def collect(self, keep: set[str]) -> None:
        """Delete generations not in `keep` (the live one and the one before it, which a
        running server may still be finishing a turn on) and half-written ones, and the
        top-level files of an index written before generations."""
        for g in self.generations():
            if g not in keep:
                shutil.rmtree(self.dir / g, ignore_errors=True)
        if (self.dir / CURRENT).is_file() and "" not in keep:
            for legacy in LEGACY:
                (self.dir / legacy).unlink(missing_ok=True)
            for legacy in LEGACY_DIRS:
                shutil.rmtree(self.dir / legacy, ignore_errors=True)

    def _pin(self, name: str) -> None:
        self.__dict__["generation"] = name
        self.titles.cache_clear()
        self._decoded = {}
        for cached in (
            "manifest",
            "facets",
            "lexical",
            "vectors",
            "ids",
            "row_of",
            "_photos_by_row",
            "lexicon",
        ):
            self.__dict__.pop(cached, None)

    def summary(self) -> dict[str, Any]:
        return {"index_dir": str(self.dir), "store": self.store.where, **self.manifest.model_dump()}
