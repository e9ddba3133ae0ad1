"""The shop's policies (shipping, returns, sizing …): Markdown files cut into passages at
their `##` headings, embedded with the catalog's text model, kept in their own Chroma
collection ("policies") and a BM25 index, and searched the same hybrid way as products.

A shop replaces `data/policies/` with its own Markdown and runs `aisle ingest FOLDER`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from .config import RetrievalConfig
from .fusion import Ranking, fuse
from .lexical import LexicalIndex
from .schema import RowError
from .text_embedder import TextEmbedder
from .vector_store import StoreUnavailableError, VectorStore

COLLECTION = "policies"
MAX_CHARS = 900  # a longer section is cut at paragraph breaks


class PolicyPassage(BaseModel):
    id: str  # "returns#refunds"
    document: str  # "Returns and exchanges"
    heading: str  # "Refunds"
    text: str
    source: str  # file name

    def cite(self) -> str:
        return f"{self.document} › {self.heading}"


class PolicyHit(BaseModel):
    passage: PolicyPassage
    score: float  # fused (reciprocal rank)
    cosine: float  # dense similarity to the question: how well it answers


class PolicyReport(BaseModel):
    folder: str
    documents: int
    passages: int
    errors: list[RowError]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def parse_markdown(path: Path) -> tuple[list[PolicyPassage], list[RowError]]:
    """Passages of one file. The `# title` names the document; each `##` section is a
    passage (cut further at blank lines when long)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    title, heading, start, body = path.stem.replace("-", " ").capitalize(), "", 1, []
    sections: list[tuple[str, int, list[str]]] = []
    for n, line in enumerate(lines, 1):
        if line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## "):
            if any(b.strip() for b in body):
                sections.append((heading, start, body))
            heading, start, body = line[3:].strip(), n, []
        else:
            body.append(line)
    if any(b.strip() for b in body):
        sections.append((heading, start, body))
    if not sections:
        return [], [RowError(line=1, reason=f"{path.name}: no text to index")]
    out = []
    for heading, _, body in sections:
        paragraphs = [p.strip() for p in "\n".join(body).split("\n\n") if p.strip()]
        chunks, current = [], ""
        for p in paragraphs:
            if current and len(current) + len(p) > MAX_CHARS:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{p}".strip()
        chunks.append(current)
        for i, chunk in enumerate(chunks):
            name = heading or title
            out.append(
                PolicyPassage(
                    id=f"{path.stem}#{_slug(name)}" + (f"-{i + 1}" if i else ""),
                    document=title,
                    heading=name,
                    text=" ".join(chunk.split()),
                    source=path.name,
                )
            )
    return out, []


def passage_text(p: PolicyPassage) -> str:
    return f"{p.document}. {p.heading}. {p.text}"


class PolicyIndex:
    """The policies part of an index folder (`policies/`)."""

    def __init__(self, config: RetrievalConfig, store: VectorStore | None = None):
        self.config = config
        self.dir = Path(config.index_dir).expanduser() / "policies"
        self._store = store
        self._loaded: tuple[list[PolicyPassage], np.ndarray, LexicalIndex] | None = None

    def exists(self) -> bool:
        return (self.dir / "passages.json").is_file()

    def ingest(self, folder: Path, embedder: TextEmbedder) -> PolicyReport:
        folder = Path(folder)
        files = sorted(folder.glob("*.md")) if folder.is_dir() else [folder]
        if not files:
            raise ValueError(f"{folder}: no Markdown (.md) policy files")
        passages, errors = [], []
        for f in files:
            found, bad = parse_markdown(f)
            passages += found
            errors += bad
        if not passages:
            raise ValueError(f"{folder}: no policy text found")
        ids = [p.id for p in passages]
        if len(set(ids)) < len(ids):  # two sections with one heading in one file
            seen: dict[str, int] = {}
            for p in passages:
                seen[p.id] = seen.get(p.id, 0) + 1
                if seen[p.id] > 1:
                    p.id = f"{p.id}-{seen[p.id]}"
        vectors = embedder.embed([passage_text(p) for p in passages])
        if self._store is not None:
            self._store.drop(COLLECTION)
            self._store.upsert(
                COLLECTION,
                [p.id for p in passages],
                vectors,
                [{"document": p.document, "heading": p.heading} for p in passages],
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "passages.json").write_text(
            json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=1)
        )
        np.save(self.dir / "vectors.npy", vectors.astype(np.float32))
        LexicalIndex.build([passage_text(p) for p in passages]).save(self.dir / "lexical")
        (self.dir / "model.json").write_text(json.dumps({"text_model": embedder.model_ref}))
        self._loaded = None
        return PolicyReport(
            folder=str(folder),
            documents=len({p.source for p in passages}),
            passages=len(passages),
            errors=errors,
        )

    def _load(self):
        if self._loaded is None:
            if not self.exists():
                raise FileNotFoundError(
                    f"no policies in {self.dir}: run `aisle ingest data/policies` "
                    "(or your shop's folder of Markdown policies)"
                )
            passages = [
                PolicyPassage.model_validate(p)
                for p in json.loads((self.dir / "passages.json").read_text())
            ]
            self._loaded = (
                passages,
                np.load(self.dir / "vectors.npy"),
                LexicalIndex.load(self.dir / "lexical"),
            )
        return self._loaded

    @property
    def passages(self) -> list[PolicyPassage]:
        return self._load()[0]

    def search(self, text: str, query_vector: np.ndarray, k: int = 3) -> list[PolicyHit]:
        """Hybrid over all passages (a shop has tens to hundreds: exact search)."""
        passages, vectors, lexical = self._load()
        cos = vectors @ query_vector
        bm25 = lexical.scores(text)
        dense_rows = np.argsort(-cos)[:20]
        lex_rows = np.array([i for i in np.argsort(-bm25)[:20] if bm25[i] > 0], dtype=int)
        fused = fuse(
            {
                "dense": Ranking(rows=dense_rows, scores=cos[dense_rows]),
                "lexical": Ranking(rows=lex_rows, scores=bm25[lex_rows]),
            },
            {"dense": 1.0, "lexical": 1.0},
        )
        return [
            PolicyHit(passage=passages[row], score=score, cosine=float(cos[row]))
            for row, score, _ in fused[:k]
        ]


__all__ = ["PolicyHit", "PolicyIndex", "PolicyPassage", "StoreUnavailableError"]
