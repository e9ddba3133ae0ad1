"""The colours of a product photo, read from its pixels.

No aligned image–text model is available offline, and colour is the strongest image
signal for "in <colour>" queries (docs/models.md). Background connected to the border and
skin are dropped, the centre weighs most, and each remaining pixel is named by the HSV
bands of the language data (`colors.pixels` in base/language/data/english.toml).
There is no library that names colours this way, hence the few lines below.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def basic_colors() -> tuple[str, ...]:
    """The colours pixels are named by: the general language layer's basic colours, in the
    order of the colour-distribution columns an index stores (its manifest records them)."""
    from base.language.general import language

    return tuple(language().colors.basic)


def basic_color(name: str) -> str | None:
    """A catalog's colour name → the basic colour its last known word names (a shade word
    maps by the language data's `colors.shades`); a name with no colour word → None."""
    from base.language.general import language

    shades = language().color_of
    for word in name.casefold().replace("/", " ").replace("-", " ").split()[::-1]:
        if word in shades:
            return shades[word]
    return None


def color_distribution(image: Image.Image, size: int = 96) -> np.ndarray:
    """Share of the product's pixels in each of `basic_colors()` (sums to 1, or all 0)."""
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
    dist = np.bincount(names[keep], weights=weight[keep], minlength=len(basic_colors()))
    total = dist.sum()
    return (dist / total).astype(np.float32) if total > 0 else dist.astype(np.float32)


def _name_pixels(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each pixel's basic colour (as a column index), by the bands and rules of the
    language data's `colors.pixels`."""
    from base.language.general import language

    naming = language().colors.pixels
    index = {name: i for i, name in enumerate(basic_colors())}
    out = np.full(h.shape, index[naming.unsaturated], dtype=np.int64)
    chromatic = s >= naming.chromatic_saturation
    lower = 0.0
    for upper, name in naming.hue_bands:
        out[chromatic & (h >= lower) & (h < upper)] = index[name]
        lower = upper
    for rule in naming.rules:
        match = np.ones(h.shape, dtype=bool)
        if rule.chromatic is not None:
            match &= chromatic if rule.chromatic else ~chromatic
        for channel, low, high in (
            (h, rule.hue_min, rule.hue_max),
            (s, rule.saturation_min, rule.saturation_max),
            (v, rule.value_min, rule.value_max),
        ):
            if low is not None:
                match &= channel >= low
            if high is not None:
                match &= channel < high
        out[match] = index[rule.name]
    return out
