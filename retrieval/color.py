"""The colours of a product photo, read from its pixels.

No aligned image–text model is available offline, and colour is the strongest image
signal for "in blue"-style queries (MODELS.md). Background connected to the border and
skin are dropped, the centre weighs most, and each remaining pixel is named by HSV bands.
There is no library that names colours this way, hence the few lines below.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# The colours pixels are named by (the general language layer's basic colours, in the order
# of the colour-distribution vector stored in the index).
BASIC_COLORS: tuple[str, ...] = (
    "black",
    "white",
    "gray",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
    "beige",
)


def basic_color(name: str) -> str | None:
    """'Navy' → 'blue', 'Light Blue' → 'blue'; a name with no known basic colour → None.
    Shade names come from the general language layer (retrieval/language/data)."""
    from .language.general import language

    shades = language().color_of
    for word in name.casefold().replace("/", " ").replace("-", " ").split()[::-1]:
        if word in shades:
            return shades[word]
    return None


def color_distribution(image: Image.Image, size: int = 96) -> np.ndarray:
    """Share of the product's pixels in each of `BASIC_COLORS` (sums to 1, or all 0)."""
    from scipy import ndimage

    small = image.convert("RGB")
    small.thumbnail((size, size))
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32) / 255.0
    h, s, v = hsv[..., 0] * 360.0, hsv[..., 1], hsv[..., 2]

    # Background: near-white or near-uniform light pixels connected to the border.
    light = (v > 0.85) & (s < 0.12)
    labels, _ = ndimage.label(light)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, border[border > 0])
    skin = (h < 50) & (s > 0.15) & (s < 0.6) & (v > 0.35) & (v < 0.95)
    keep = ~background & ~skin
    if keep.sum() < 0.02 * keep.size:  # all background: the product is the light thing
        keep = ~background if (~background).any() else np.ones_like(keep)

    rows, cols = np.indices(h.shape, dtype=np.float32)
    cy, cx = (h.shape[0] - 1) / 2, (h.shape[1] - 1) / 2
    weight = np.exp(-(((rows - cy) / h.shape[0]) ** 2 + ((cols - cx) / h.shape[1]) ** 2) * 4)

    names = _name_pixels(h, s, v)
    dist = np.bincount(names[keep], weights=weight[keep], minlength=len(BASIC_COLORS))
    total = dist.sum()
    return (dist / total).astype(np.float32) if total > 0 else dist.astype(np.float32)


def _name_pixels(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    index = {name: i for i, name in enumerate(BASIC_COLORS)}
    out = np.full(h.shape, index["gray"], dtype=np.int64)
    hue_bands = [  # (upper bound of hue in degrees, name)
        (15, "red"),
        (40, "orange"),
        (70, "yellow"),
        (165, "green"),
        (255, "blue"),
        (290, "purple"),
        (345, "pink"),
        (361, "red"),
    ]
    chromatic = s >= 0.2
    lower = 0.0
    for upper, name in hue_bands:
        out[chromatic & (h >= lower) & (h < upper)] = index[name]
        lower = upper
    # dark oranges and yellows are browns; pale ones beige
    warm = chromatic & (h >= 15) & (h < 70)
    out[warm & (v < 0.55)] = index["brown"]
    out[warm & (s < 0.35) & (v >= 0.7)] = index["beige"]
    out[~chromatic & (v >= 0.8)] = index["white"]
    out[v < 0.22] = index["black"]
    return out
