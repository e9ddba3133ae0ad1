"""Image encoders behind one interface.

Every encoder gives, for a batch of photos:
- `visual`: vectors for photo → photo similarity;
- `text_space`: vectors that text queries are compared with (text → photo).

EfficientNet-Lite0 (packaged, ImageNet) has no text tower, so its `text_space` is a ConSE
bridge (Norouzi et al. 2014): each photo becomes the probability-weighted mean of the text
embeddings of its top ImageNet classes, which lives in the text embedder's space.
A CLIP model (local folder or hub id) gives both from its own towers.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from .models import load_clip, load_efficientnet_lite0, resolve_device
from .text_embedder import TextEmbedder


@dataclass
class ImageFeatures:
    visual: np.ndarray  # N × visual_dim, L2-normalised
    text_space: np.ndarray  # N × text-space dim, L2-normalised


class ImageEncoder(ABC):
    name: str
    shares_text_space = False  # True: text queries use the text embedder's own vectors

    @abstractmethod
    def encode(self, images: list[Image.Image]) -> ImageFeatures: ...

    @abstractmethod
    def encode_text_queries(self, texts: list[str]) -> np.ndarray:
        """Text queries in the same space as `ImageFeatures.text_space`."""


def _l2(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def imagenet_class_synonyms() -> list[list[str]]:
    """The 1,000 ImageNet classes in model output order, each as its WordNet synonyms.
    From timm's `imagenet_synset_to_lemma.txt` (Apache-2.0), shipped in resources/."""
    text = resources.files("retrieval").joinpath("resources/imagenet_classes.txt").read_text()
    return [
        [w.strip() for w in line.split("\t", 1)[1].split(",") if w.strip()]
        for line in text.splitlines()
    ]


def center_crop(image: Image.Image, size: int) -> Image.Image:
    image = image.convert("RGB")
    scale = size / min(image.size)
    image = image.resize(
        (max(size, round(image.width * scale)), max(size, round(image.height * scale))),
        Image.Resampling.BICUBIC,
    )
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return image.crop((left, top, left + size, top + size))


class EfficientNetConSE(ImageEncoder):
    """EfficientNet-Lite0 penultimate features; ConSE over its ImageNet classes."""

    name = "efficientnet-lite0"
    shares_text_space = True
    input_size = 224

    def __init__(self, text_embedder: TextEmbedder, device: str = "cpu", top_classes: int = 5):
        self.text_embedder = text_embedder
        self.device = resolve_device(device)
        self.top_classes = top_classes

    @functools.cached_property
    def class_embeddings(self) -> np.ndarray:
        # Each ImageNet class as the mean of its synonyms' embeddings (the class list's own).
        synonyms = imagenet_class_synonyms()
        flat = [w for words in synonyms for w in words]
        vectors = self.text_embedder.embed(flat)
        out, start = [], 0
        for words in synonyms:
            out.append(vectors[start : start + len(words)].mean(axis=0))
            start += len(words)
        return _l2(np.stack(out))

    def _tensor(self, images: list[Image.Image]):
        import torch

        arrays = [np.asarray(center_crop(im, self.input_size), dtype=np.float32) for im in images]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        return ((batch / 255.0 - 0.5) / 0.5).to(self.device)

    def encode(self, images: list[Image.Image]) -> ImageFeatures:
        import torch

        model = load_efficientnet_lite0(self.device)
        with torch.inference_mode():
            x = self._tensor(images)
            feats = model.extract_features(x)
            pooled = torch.nn.functional.adaptive_avg_pool2d(feats, 1).flatten(1)
            # the classifier head on the same features (what model(x) does, without re-running)
            logits = model._fc(model._dropout(pooled))
            probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
        visual = _l2(pooled.float().cpu().numpy())
        return ImageFeatures(visual=visual, text_space=self._conse(probs))

    def _conse(self, probs: np.ndarray) -> np.ndarray:
        top = np.argsort(-probs, axis=1)[:, : self.top_classes]
        weights = np.take_along_axis(probs, top, axis=1)
        mixed = np.einsum("nt,ntd->nd", weights, self.class_embeddings[top])
        return _l2(mixed)

    def encode_text_queries(self, texts: list[str]) -> np.ndarray:
        return self.text_embedder.embed(texts)


class ClipEncoder(ImageEncoder):
    """Any CLIP-style model transformers can load (CLIP, SigLIP …)."""

    def __init__(self, model_ref: str, device: str = "cpu"):
        self.name = model_ref
        self.model_ref = model_ref
        self.device = resolve_device(device)

    def encode(self, images: list[Image.Image]) -> ImageFeatures:
        import torch

        model, processor = load_clip(self.model_ref, self.device)
        inputs = processor(images=[im.convert("RGB") for im in images], return_tensors="pt")
        with torch.inference_mode():
            out = model.get_image_features(**inputs.to(self.device))
        vectors = _l2(_as_tensor(out).float().cpu().numpy())
        return ImageFeatures(visual=vectors, text_space=vectors)

    def encode_text_queries(self, texts: list[str]) -> np.ndarray:
        import torch

        model, processor = load_clip(self.model_ref, self.device)
        inputs = processor(text=texts, return_tensors="pt", padding=True, truncation=True)
        with torch.inference_mode():
            out = model.get_text_features(**inputs.to(self.device))
        return _l2(_as_tensor(out).float().cpu().numpy())


def _as_tensor(out):
    # transformers 5 may return a model output object rather than a tensor
    return out if hasattr(out, "float") else out.pooler_output


def make_image_encoder(
    model_ref: str, text_embedder: TextEmbedder, device: str = "cpu"
) -> ImageEncoder | None:
    if model_ref in ("none", ""):
        return None
    if model_ref == EfficientNetConSE.name:
        return EfficientNetConSE(text_embedder, device=device)
    return ClipEncoder(model_ref, device=device)


MAX_PIXELS = 40_000_000  # RetrievalConfig.max_photo_pixels' default


class PhotoTooLargeError(ValueError):
    """A photo whose header says it is bigger than the bound: never decoded."""


def open_image(path: Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully decode a photo (raises OSError/ValueError for a broken file). Its size
    is read from the header first: over `max_pixels` it is refused before any decoding (a
    500 KB PNG can hold 13,000 × 13,000 pixels, 500 MB decoded); a large JPEG is decoded
    at a reduced scale, enough for the encoders."""
    with Image.open(path) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise PhotoTooLargeError(
                f"the photo is {width:,} × {height:,} pixels; photos up to "
                f"{max_pixels / 1e6:.0f} megapixels are read"
            )
        image.draft("RGB", (2048, 2048))  # JPEG: decode at 1/2, 1/4 or 1/8 when that suffices
        image.load()
        return image.convert("RGB")
