"""Text embeddings with sentence-transformers, and the text a product is indexed by."""

from __future__ import annotations

import functools

import numpy as np

from .models import load_sentence_transformer, resolve_precision
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

    def __init__(
        self,
        model_ref: str = "minilm",
        device: str = "cpu",
        batch_size: int = 64,
        max_tokens: int | None = None,
        precision: str = "fp32",
    ):
        """`max_tokens`: the most tokens of a text the model reads (None: its own limit);
        `precision`: "fp32", "bf16" (autocast: the matrix products in bf16, where the
        hardware has units for it), or "auto"."""
        self.model_ref = model_ref
        self.device = device
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.precision = resolve_precision(precision, device)
        self.why_fp32 = ""  # why bf16 was not used, when it was asked for

    @property
    def model(self):
        return load_sentence_transformer(self.model_ref, self.device, self.max_tokens)

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
        if self.precision == "bf16" and (
            why := _bf16_disagrees(self.model_ref, self.device, self.max_tokens)
        ):
            self.precision, self.why_fp32 = "fp32", why
        return self._encode(texts, progress, self.precision == "bf16")

    def _encode(self, texts: list[str], progress: bool, bf16: bool) -> np.ndarray:
        import torch

        model = self.model
        with torch.autocast(
            device_type="cuda" if self.device.startswith("cuda") else "cpu",
            dtype=torch.bfloat16,
            enabled=bf16,
        ):
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_tensor=True,
                show_progress_bar=progress,
            )
        # normalised in fp32, whatever the arithmetic of the encoding
        vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)
        return vectors.cpu().numpy().astype(np.float32)


BF16_AGREEMENT = 0.999  # cosine with the fp32 vector a probe text must reach in bf16


@functools.cache
def _bf16_disagrees(model_ref: str, device: str, max_tokens: int | None) -> str:
    """Why bf16 is not used for this model ("" when it reproduces fp32 on probe texts):
    checked once per model, device and length in the process."""
    embedder = TextEmbedder(model_ref, device, max_tokens=max_tokens)
    probes = [
        "a probe text, short",
        " ".join(f"word{n} value{n}" for n in range(200)),  # past any length limit
    ]
    try:
        exact = embedder._encode(probes, False, bf16=False)
        fast = embedder._encode(probes, False, bf16=True)
    except Exception as exc:  # noqa: BLE001 - a backend without bf16: fp32, said why
        return f"bf16 failed ({type(exc).__name__}: {exc})"
    low = float((exact * fast).sum(1).min())
    return "" if low >= BF16_AGREEMENT else f"bf16 disagrees with fp32 (cosine {low:.4f})"
