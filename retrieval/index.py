"""The index folder: what ingestion writes and search reads.

```
INDEX_DIR/
  manifest.json      models used, dimensions, counts
  products.sqlite    id → row, content hash, the product record (JSON)
  facets.npz/.json   filter columns (`FacetIndex`)
  lexicon.json       the catalog's own words (`Lexicon`)
  lexical/           BM25 (`LexicalIndex`)
  vectors/           row-aligned copies of the vectors, for exact search over a filtered subset
  chroma/            the embedded Chroma store (absent when a Chroma server is used)
```
Chroma holds the vectors and their metadata; the row-aligned copies let a selective
filter be answered exactly without a round trip per candidate.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, Field

from .config import RetrievalConfig
from .facets import FacetIndex
from .lexical import LexicalIndex
from .lexicon import Lexicon
from .schema import Product
from .vector_store import VectorStore

TEXT, IMAGE_TEXT, PHOTOS = "text", "image-text", "photos"  # Chroma collection names


class IndexNotFoundError(FileNotFoundError):
    pass


class Manifest(BaseModel):
    version: int = 1
    text_model: str
    text_dim: int
    image_model: str
    visual_dim: int = 0
    text_space_dim: int = 0
    products: int = 0
    photos: int = 0
    currency: str = "USD"
    colors: list[str] = Field(default_factory=list)  # the colour columns' order


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

    @classmethod
    def load(cls, folder: Path) -> VectorArrays:
        # In memory, not memory-mapped: gathering a filtered subset from a memmap costs
        # several times more (100k × 384 floats is 150 MB).
        arrays = {n: np.load(folder / f"{n}.npy") for n in cls.NAMES}
        digests = json.loads((folder / "photo_digests.json").read_text())
        return cls(**arrays, photo_digests=digests)


def _atomic(path: Path, write) -> None:
    """Write to a temporary file, then rename: a search running meanwhile never reads half."""
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    write(str(tmp))
    os.replace(tmp, path)


class ProductIndex:
    """Opens the parts of an index folder lazily; share one per process."""

    def __init__(self, config: RetrievalConfig):
        self.config = config
        self.dir = Path(config.index_dir).expanduser()

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

    def photo_files(self, product_id: str) -> list[Path]:
        """The product's photos as the index keeps them (main photo first), for display."""
        row = self.row_of.get(product_id)
        digests = self._photos_by_row.get(row, []) if row is not None else []
        return [f for d in digests if (f := self.photos_dir / f"{d}.jpg").is_file()]

    def exists(self) -> bool:
        return (self.dir / "manifest.json").is_file()

    def _require(self) -> None:
        if not self.exists():
            raise IndexNotFoundError(
                f"no index in {self.dir}: run `aisle ingest CATALOG` first "
                "(or point --index-dir / AISLE_INDEX_DIR at an existing index)"
            )

    @functools.cached_property
    def manifest(self) -> Manifest:
        self._require()
        return Manifest.model_validate_json((self.dir / "manifest.json").read_text())

    @functools.cached_property
    def facets(self) -> FacetIndex:
        self._require()
        return FacetIndex.load(self.dir)

    @functools.cached_property
    def lexical(self) -> LexicalIndex:
        self._require()
        return LexicalIndex.load(self.dir / "lexical")

    @functools.cached_property
    def vectors(self) -> VectorArrays:
        self._require()
        return VectorArrays.load(self.dir / "vectors")

    @functools.cached_property
    def lexicon(self) -> Lexicon:
        """The catalog's words (built from the products for an index written before the
        lexicon existed)."""
        self._require()
        return Lexicon.load(self.dir) or Lexicon.build(self.all_products())

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
    def _db(self) -> sqlite3.Connection:
        self.dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.dir / "products.sqlite")
        db.execute(
            "CREATE TABLE IF NOT EXISTS products "
            "(id TEXT PRIMARY KEY, row INTEGER, hash TEXT, record TEXT)"
        )
        # search fetches its top-k by row: without this index that is a full scan
        db.execute("CREATE INDEX IF NOT EXISTS products_row ON products(row)")
        return db

    def products(self, rows: list[int]) -> list[Product]:
        if not rows:
            return []
        with self._db() as db:
            marks = ",".join("?" * len(rows))
            found = dict(
                db.execute(f"SELECT row, record FROM products WHERE row IN ({marks})", rows)
            )
        return [Product.model_validate_json(found[r]) for r in rows]

    def product(self, product_id: str) -> Product | None:
        with self._db() as db:
            hit = db.execute("SELECT record FROM products WHERE id = ?", (product_id,)).fetchone()
        return Product.model_validate_json(hit[0]) if hit else None

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
        if not (self.dir / "products.sqlite").exists():
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
    ) -> None:
        """Replace the folder's files with a new generation (rows = order of `products`)."""
        vectors.save(self.dir / "vectors")
        lexical.save(self.dir / "lexical")
        facets.save(self.dir)
        lexicon.save(self.dir)
        with self._db() as db:
            db.execute("DELETE FROM products")
            db.executemany(
                "INSERT INTO products VALUES (?, ?, ?, ?)",
                (
                    (p.id, row, h, p.model_dump_json())
                    for row, (p, h) in enumerate(zip(products, hashes, strict=True))
                ),
            )
        _atomic(
            self.dir / "manifest.json", lambda p: Path(p).write_text(manifest.model_dump_json())
        )
        self.titles.cache_clear()
        for name in (
            "manifest",
            "facets",
            "lexical",
            "vectors",
            "ids",
            "row_of",
            "_photos_by_row",
            "lexicon",
        ):
            self.__dict__.pop(name, None)

    def summary(self) -> dict[str, Any]:
        return {"index_dir": str(self.dir), "store": self.store.where, **self.manifest.model_dump()}
