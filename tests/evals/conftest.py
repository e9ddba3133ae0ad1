"""A tiny shop written here for the eval suite's tests: three kinds, brands, colours and
sizes, no photos; indexed with the tiny text model in seconds."""

from __future__ import annotations

import csv

import pytest

ROWS = [
    # id, title, category, brand, color, size, price
    ("K1", "Alpine Kettle", "Kitchen/Kettles", "Brava", "Red", "", 39.0),
    ("K2", "Classic Kettle", "Kitchen/Kettles", "Holm", "Black", "", 29.0),
    ("K3", "Travel Kettle", "Kitchen/Kettles", "Brava", "White", "", 24.0),
    ("K4", "Glass Kettle", "Kitchen/Kettles", "Holm", "Red", "", 49.0),
    ("M1", "Stoneware Mug", "Kitchen/Mugs", "Holm", "Blue", "", 9.0),
    ("M2", "Enamel Mug", "Kitchen/Mugs", "Brava", "White", "", 12.0),
    ("M3", "Espresso Mug", "Kitchen/Mugs", "Holm", "Black", "", 7.5),
    ("M4", "Porcelain Mug", "Kitchen/Mugs", "Brava", "Blue", "", 14.0),
    ("S1", "Linen Apron", "Textiles/Aprons", "Holm", "Blue", "M", 22.0),
    ("S2", "Canvas Apron", "Textiles/Aprons", "Brava", "Black", "L", 26.0),
    ("S3", "Denim Apron", "Textiles/Aprons", "Holm", "Blue", "S", 31.0),
    ("S4", "Cotton Apron", "Textiles/Aprons", "Brava", "Red", "M", 18.0),
]


def write_shop(path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "category", "brand", "color", "size", "price", "description"])
        for pid, title, cat, brand, color, size, price in ROWS:
            kind = cat.split("/")[-1][:-1].casefold()
            w.writerow(
                [
                    pid,
                    title,
                    cat,
                    brand,
                    color,
                    size,
                    price,
                    f"A {color.casefold()} {kind} by {brand}.",
                ]
            )


@pytest.fixture(scope="session")
def tiny_shop(tmp_path_factory, tiny_text_model):
    """(Settings, catalog path) of the tiny shop, indexed once."""
    from assistant.config import Settings
    from retrieval.ingest import ingest

    folder = tmp_path_factory.mktemp("tiny-shop")
    catalog = folder / "products.csv"
    write_shop(catalog)
    settings = Settings(index_dir=folder / "index", text_model=tiny_text_model, device="cpu")
    ingest(catalog, settings, progress=False)
    return settings, catalog
