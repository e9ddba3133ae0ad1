import numpy as np
from PIL import Image, ImageDraw

from retrieval.color import BASIC_COLORS, basic_color, color_distribution


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
        assert BASIC_COLORS[int(np.argmax(dist))] == name, (rgb, dist)
        assert abs(dist.sum() - 1) < 1e-5


def test_shop_colour_names_map_to_basic_colours():
    assert basic_color("Navy") == "blue"
    assert basic_color("light grey") == "gray"
    assert basic_color("Lavender") == "purple"
    assert basic_color("Heather Gray") == "gray"
    assert basic_color("Mystery") is None
