import numpy as np
from PIL import Image, ImageDraw

from retrieval.color import basic_color, basic_colors, color_distribution


def _on_white(rgb):
    image = Image.new("RGB", (100, 120), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((20, 20, 80, 100), fill=rgb)
    return image


def test_the_product_colour_wins_over_the_white_background():
    for rgb, name in [
        ((30, 60, 200), "blue"),
        ((200, 30, 30), "red"),
        ((40, 160, 60), "green"),
        ((20, 20, 20), "black"),
        ((230, 210, 40), "yellow"),
    ]:
        dist = color_distribution(_on_white(rgb))
        assert basic_colors()[int(np.argmax(dist))] == name, (rgb, dist)
        assert abs(dist.sum() - 1) < 1e-5


def test_shop_colour_names_map_to_basic_colours():
    assert basic_color("Navy") == "blue"
    assert basic_color("light grey") == "gray"
    assert basic_color("Lavender") == "purple"
    assert basic_color("Heather Gray") == "gray"
    assert basic_color("Mystery") is None


def test_pixel_naming_must_use_the_basic_colours():
    import pytest
    from pydantic import ValidationError

    from base.language.general import Colors, language

    data = language().colors.model_dump()
    data["pixels"]["rules"].append({"name": "mauve", "value_max": 0.1})
    with pytest.raises(ValidationError, match="mauve"):
        Colors.model_validate(data)


def test_the_pixel_bands_come_from_the_language_data(monkeypatch):
    """Renaming a band in the data file renames what the photo's pixels are called."""
    from base.language import general

    lang = general.language()
    bands = [(u, "purple" if n == "blue" else n) for u, n in lang.colors.pixels.hue_bands]
    pixels = lang.colors.pixels.model_copy(update={"hue_bands": bands})
    colors = lang.colors.model_copy(update={"pixels": pixels})
    monkeypatch.setattr(general, "language", lambda: lang.model_copy(update={"colors": colors}))
    dist = color_distribution(_on_white((30, 60, 200)))
    assert basic_colors()[int(np.argmax(dist))] == "purple"
