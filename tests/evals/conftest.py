"""A tiny shop written here for the eval suite's tests: three kinds, brands, colours and
sizes, no photos; indexed with the tiny text model in seconds."""

from __future__ import annotations

import pytest

# the catalog as a shop exports it (a data block, one product a line)
CATALOG = """\
id,title,category,brand,color,size,price,description
K1,Alpine Kettle,Kitchen/Kettles,Brava,Red,,39.0,A red kettle by Brava.
K2,Classic Kettle,Kitchen/Kettles,Holm,Black,,29.0,A black kettle by Holm.
K3,Travel Kettle,Kitchen/Kettles,Brava,White,,24.0,A white kettle by Brava.
K4,Glass Kettle,Kitchen/Kettles,Holm,Red,,49.0,A red kettle by Holm.
M1,Stoneware Mug,Kitchen/Mugs,Holm,Blue,,9.0,A blue mug by Holm.
M2,Enamel Mug,Kitchen/Mugs,Brava,White,,12.0,A white mug by Brava.
M3,Espresso Mug,Kitchen/Mugs,Holm,Black,,7.5,A black mug by Holm.
M4,Porcelain Mug,Kitchen/Mugs,Brava,Blue,,14.0,A blue mug by Brava.
S1,Linen Apron,Textiles/Aprons,Holm,Blue,M,22.0,A blue apron by Holm.
S2,Canvas Apron,Textiles/Aprons,Brava,Black,L,26.0,A black apron by Brava.
S3,Denim Apron,Textiles/Aprons,Holm,Blue,S,31.0,A blue apron by Holm.
S4,Cotton Apron,Textiles/Aprons,Brava,Red,M,18.0,A red apron by Brava.
"""


def write_shop(path) -> None:
    path.write_text(CATALOG, encoding="utf-8")


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
