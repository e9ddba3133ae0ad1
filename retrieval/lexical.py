"""BM25 over the products' text (bm25s), saved in the index folder."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np


@functools.cache
def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # PyStemmer is optional for bm25s; plain tokens still work
        return None


def _tokenize(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


class LexicalIndex:
    def __init__(self, retriever):
        self.retriever = retriever

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            retriever.index(_tokenize(texts), show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder)))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every product row for `query` (zeros when no word matches)."""
        tokenized = _tokenize([query])
        vocab_inv = {i: w for w, i in tokenized.vocab.items()}
        words = [vocab_inv[i] for i in tokenized.ids[0] if i in vocab_inv]
        known = [w for w in words if w in self.retriever.vocab_dict]
        n = self.retriever.scores["num_docs"] if self.retriever.scores else 0
        if not known:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)
