"""Chroma collections for the product vectors: embedded in the index folder by default,
or a Chroma server by URL (`chroma run`) when a shop outgrows one machine."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from base.stores import (  # one error for every store that is down
    StoreUnavailableError,
    why_unwritable,
)

from .schema import Product, SearchFilters

BATCH = 5000  # Chroma's insert batches (its max batch size is larger; this keeps memory flat)


class VectorStore:
    def __init__(self, path: Path | None = None, url: str | None = None, prefix: str = "aisle"):
        if path is None and url is None:
            raise ValueError("VectorStore needs a folder or a server URL")
        self.path, self.url, self.prefix = path, url, prefix

    @property
    def where(self) -> str:
        return f"Chroma server {self.url}" if self.url else f"Chroma folder {self.path}"

    @functools.cached_property
    def client(self):
        import chromadb

        settings = chromadb.Settings(anonymized_telemetry=False)
        try:
            if self.url:
                parsed = urlparse(self.url if "://" in self.url else f"http://{self.url}")
                client = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
                client.heartbeat()
                return client
            self.path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.path), settings=settings)
        except Exception as exc:
            if not self.url and (why := why_unwritable(exc, self.path)):
                raise StoreUnavailableError(f"{self.where} cannot be written: {why}") from exc
            raise StoreUnavailableError(f"{self.where} is not reachable: {exc}") from exc

    def _name(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @functools.cache  # noqa: B019 - one handle per collection name for this store's lifetime
    def collection(self, name: str):
        try:
            return self.client.get_or_create_collection(
                self._name(name),
                embedding_function=None,  # we pass our own vectors; the default downloads a model
                configuration={
                    "hnsw": {"space": "cosine", "ef_search": 400, "ef_construction": 128}
                },
            )
        except StoreUnavailableError:
            raise
        except Exception as exc:
            raise StoreUnavailableError(f"{self.where}: collection {name!r}: {exc}") from exc

    def upsert(
        self,
        name: str,
        ids: Sequence[str],
        vectors: np.ndarray,
        metadatas: Sequence[dict[str, Any]] | None = None,
        progress=None,
    ) -> None:
        col = self.collection(name)
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            col.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=list(metadatas[start:end]) if metadatas is not None else None,
            )
            if progress is not None:
                progress(min(end, len(ids)) - start)
        self._count.cache_clear()

    def delete(self, name: str, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self.collection(name).delete(ids=list(ids[start : start + BATCH]))
        self._count.cache_clear()

    def query(
        self, name: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> tuple[list[str], np.ndarray]:
        """Nearest ids and their cosine similarities."""
        col = self.collection(name)
        n = min(n, self._count(name))  # Chroma rejects n_results above the count
        if n <= 0:
            return [], np.zeros(0, dtype=np.float32)
        result = col.query(
            query_embeddings=vector[None, :], n_results=n, where=where, include=["distances"]
        )
        return result["ids"][0], 1.0 - np.asarray(result["distances"][0], dtype=np.float32)

    def count(self, name: str) -> int:
        return self.collection(name).count()

    def ids(self, name: str) -> list[str]:
        """Every id the collection holds (to reconcile it with an index generation)."""
        return list(self.collection(name).get(include=[])["ids"])

    def vectors(self, name: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids (those it has)."""
        got = self.collection(name).get(ids=list(ids), include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    @functools.cache  # noqa: B019 - counted once per store; writers clear it
    def _count(self, name: str) -> int:
        return self.count(name)

    def drop(self, name: str) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.client.delete_collection(self._name(name))
        self.collection.cache_clear()


def product_metadata(product: Product) -> dict[str, Any]:
    """Scalar metadata for Chroma's own `where` (a Chroma server's users, and the
    benchmark's baseline). Search filters in process (`FacetIndex`); list-valued metadata
    made Chroma inserts ~20× slower and its files ~10× larger, so none is stored."""
    top = product.category.split("/")[0] if product.category else ""
    return {
        "price": float(product.price) if product.price is not None else -1.0,
        "available": product.available,
        "visible": product.visible,
        "category": product.category,
        "top_category": top,
    }


def chroma_where(filters: SearchFilters) -> dict[str, Any] | None:
    """Price, availability and an exact category as a Chroma `where` clause: what its
    scalar metadata can express (the benchmark's baseline)."""
    clauses: list[dict[str, Any]] = [{"visible": True}]
    if filters.price_min is not None:
        op = "$gt" if filters.price_min_strict else "$gte"
        clauses.append({"price": {op: filters.price_min}})
    if filters.price_max is not None:
        op = "$lt" if filters.price_max_strict else "$lte"
        clauses += [{"price": {op: filters.price_max}}, {"price": {"$gte": 0.0}}]
    if filters.available_only:
        clauses.append({"available": True})
    if filters.categories:
        clauses.append({"category": {"$in": filters.categories}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
