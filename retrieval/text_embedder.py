"""Text embeddings with sentence-transformers, and the text a product is indexed by."""

from __future__ import annotations

import numpy as np

from .models import load_sentence_transformer
from .schema import Product

# Attributes worth putting into the indexed text; boolean flags ("yes"/"no") are left out
# because "no" would match queries that mention the attribute's name.
_FLAG_VALUES = {"yes", "no"}


def product_text(product: Product, max_description_chars: int = 1000) -> str:
    """What a product is found by: the words a shopper would use, most telling first
    (title, category, every facet with its values, then the description)."""
    lines = [product.title]
    if product.category:
        lines.append(product.category.replace("/", " > "))
    facets: dict[str, list[str]] = {}
    for key in product.facet_keys():
        values = [v for v in product.values(key) if v.casefold() not in _FLAG_VALUES]
        # size codes ("XS", "M", "32") carry no words a shopper searches by
        if values and any(len(v) > 3 for v in values):
            facets[key] = values
    for key, values in facets.items():
        lines.append(f"{key.replace('_', ' ')}: {', '.join(values)}")
    flags = [k.replace("_", " ") for k, v in product.attributes.items() if v == ["yes"]]
    if flags:
        lines.append(", ".join(flags))
    if product.description:
        lines.append(product.description[:max_description_chars])
    return "\n".join(lines)


class TextEmbedder:
    """L2-normalised sentence embeddings (cosine = dot product)."""

    def __init__(self, model_ref: str = "minilm", device: str = "cpu", batch_size: int = 64):
        self.model_ref = model_ref
        self.device = device
        self.batch_size = batch_size

    @property
    def model(self):
        return load_sentence_transformer(self.model_ref, self.device)

    @property
    def dim(self) -> int:
        model = self.model
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)
