"""Shared fixtures: a tiny real sentence-transformers model built here, and a tiny catalog
with generated photos, so most tests run in seconds with the same code paths as production."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
LUMA = REPO / "data" / "luma"
VENDURE = REPO / "data" / "vendure"
GROCERY = REPO / "data" / "grocery"
# The three catalog shapes every feature is tested on: apparel with photos and variants,
# electronics/home/sports with brands, option groups and two-level categories, and a
# grocery shop with no photos, flat categories, pack sizes and euro prices.
CATALOGS = {
    "luma": LUMA / "products.jsonl",
    "vendure": VENDURE / "products.csv",
    "grocery": GROCERY / "products.csv",
}

WORDS = [
    "jacket",
    "hoodie",
    "shorts",
    "pants",
    "tee",
    "tank",
    "bag",
    "backpack",
    "watch",
    "bottle",
    "yoga",
    "mat",
    "ball",
    "blue",
    "red",
    "green",
    "black",
    "white",
    "yellow",
    "gray",
    "purple",
    "orange",
    "waterproof",
    "warm",
    "light",
    "hiking",
    "running",
    "gym",
    "men",
    "women",
    "tops",
    "bottoms",
    "gear",
    "cotton",
    "wool",
    "nylon",
    "leather",
    "polyester",
    "rain",
    "wind",
    "zip",
    "pullover",
    "trail",
    "sport",
    "summer",
    "winter",
    "cheap",
    "soft",
    "strap",
]


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory) -> str:
    """A randomly initialised 2-layer BERT saved as a sentence-transformers folder."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-st")
    raw = folder / "raw"
    raw.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz"]
    (raw / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(raw / "vocab.txt")).save_pretrained(raw)
    import torch

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(raw)
    transformer = models.Transformer(str(raw), max_seq_length=64)
    pooling = models.Pooling(transformer.get_embedding_dimension(), "mean")
    model_dir = folder / "model"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(model_dir))
    return str(model_dir)


def _photo(path: Path, rgb: tuple[int, int, int], shape: str = "square") -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 160), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if shape == "square":
        draw.rectangle((25, 30, 95, 130), fill=rgb)
    else:
        draw.ellipse((20, 40, 100, 120), fill=rgb)
        draw.line((0, 0, 120, 160), fill=(0, 0, 0), width=6)
    image.save(path)


TINY_PRODUCTS = [
    {
        "id": "J1",
        "title": "Trail rain jacket",
        "description": "Waterproof nylon jacket for hiking.",
        "category": "Men/Tops/Jackets",
        "price": 70,
        "attributes": {"material": ["Nylon"]},
        "variants": [{"color": "Blue", "size": "M"}, {"color": "Yellow", "size": "L"}],
        "images": ["j1.png"],
    },
    {
        "id": "J2",
        "title": "Warm wool jacket",
        "description": "A warm winter jacket.",
        "category": "Women/Tops/Jackets",
        "price": 95,
        "attributes": {"material": ["Wool"]},
        "variant_options": {"color": ["Red"], "size": ["S", "M"]},
        "images": ["j2.png"],
    },
    {
        "id": "H1",
        "title": "Pullover hoodie",
        "description": "Soft cotton hoodie for the gym.",
        "category": "Men/Tops/Hoodies",
        "price": 45,
        "attributes": {"material": ["Cotton"]},
        "variants": [{"color": "Yellow", "size": "M"}],
        "images": ["h1.png"],
    },
    {
        "id": "B1",
        "title": "Hiking backpack",
        "description": "A light backpack with a strap.",
        "category": "Gear/Bags",
        "price": 38,
        "attributes": {"material": ["Nylon", "Leather"]},
        "color": "Black",
        "images": ["b1.png", "missing.png"],
    },
    {
        "id": "W1",
        "title": "Sport watch",
        "description": "Running watch.",
        "category": "Gear/Watches",
        "price": 54,
        "images": ["w1.png"],
        "rating": 4.5,
        "review_count": 3,
    },
]


@pytest.fixture
def tiny_catalog(tmp_path) -> Path:
    """A five-product JSONL catalog with photos (one photo is missing on purpose)."""
    images = tmp_path / "images"
    images.mkdir()
    _photo(images / "j1.png", (30, 60, 200))
    _photo(images / "j2.png", (200, 30, 30))
    _photo(images / "h1.png", (230, 210, 40))
    _photo(images / "b1.png", (20, 20, 20), shape="round")
    _photo(images / "w1.png", (40, 160, 60), shape="round")
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in TINY_PRODUCTS) + "\n")
    return path


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory):
    """The bundled demo catalog indexed once with the packaged models (~1 minute)."""
    from retrieval.config import RetrievalConfig
    from retrieval.ingest import ingest

    config = RetrievalConfig(index_dir=tmp_path_factory.mktemp("demo-index"), device="cpu")
    report = ingest(LUMA / "products.jsonl", config, progress=False)
    return config, report


@pytest.fixture(scope="session")
def vendure_index(tmp_path_factory):
    """Vendure's catalog (two-level categories, brands, option groups) indexed once."""
    from retrieval.config import RetrievalConfig
    from retrieval.ingest import ingest

    config = RetrievalConfig(index_dir=tmp_path_factory.mktemp("vendure-index"), device="cpu")
    report = ingest(VENDURE / "products.csv", config, progress=False)
    return config, report


@pytest.fixture(scope="session")
def grocery_index(tmp_path_factory):
    """The grocery catalog (flat categories, no photos, euros) indexed once."""
    from retrieval.config import RetrievalConfig
    from retrieval.ingest import ingest

    config = RetrievalConfig(index_dir=tmp_path_factory.mktemp("grocery-index"), device="cpu")
    report = ingest(GROCERY / "products.csv", config, progress=False)
    return config, report


@pytest.fixture
def tiny_config(tmp_path, tiny_text_model):
    from retrieval.config import RetrievalConfig

    return RetrievalConfig(index_dir=tmp_path / "index", text_model=tiny_text_model, device="cpu")


@pytest.fixture(scope="session", autouse=True)
def _same_arithmetic_on_every_machine():
    """`text_precision = "auto"` picks bf16 only where the hardware has units for it: the
    suite embeds in fp32 everywhere, so no result depends on the CI machine's CPU (bf16 has
    its own tests, tests/retrieval/test_text_precision.py)."""
    import retrieval.text_embedder as te

    def fp32_for_auto(precision: str, device: str) -> str:
        return "fp32" if precision == "auto" else precision

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(te, "resolve_precision", fp32_for_auto)
        yield


# Conversations persist (by default in the index folder, which session-wide indexes share),
# so every assistant a test builds gets a store of its own, as each had its own memory
# before: an id such as "a" never continues another test's conversation. A test that
# restarts an assistant, or runs two, names one store for both (conversation_store_url).
@pytest.fixture(scope="session", autouse=True)
def _own_conversations(tmp_path_factory):
    from assistant.config import Settings

    default = Settings.conversation_location

    def fresh(self) -> str:
        if self.conversation_store_url:
            return default(self)
        return f"sqlite:///{tmp_path_factory.mktemp('conversations') / 'store.sqlite'}"

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Settings, "conversation_location", fresh)
        yield


def _bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster, when the machine has its server binaries (Debian's
    `postgresql` package) and psycopg; skipped, with the reason, where it has not."""
    pytest.importorskip("psycopg", reason="the `postgres` extra (psycopg) is not installed")
    pg = _bin()
    if pg is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    # directly under /tmp: pytest's own temp root is closed to the postgres user
    folder = Path(tempfile.mkdtemp(prefix="aisle-pg-"))
    # initdb refuses to run as root: run the server as the postgres user when we are root
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    subprocess.run([*run_as, f"{pg}/initdb", "-D", str(data), "-A", "trust", "-U", "aisle"],
                   check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    log = str(folder / "log")
    subprocess.run([*run_as, f"{pg}/pg_ctl", "-D", str(data), "-o", opts, "-l", log, "-w",
                    "start"], check=True, capture_output=True)  # fmt: skip
    yield f"postgresql+psycopg://aisle@127.0.0.1:{port}/postgres"
    subprocess.run([*run_as, f"{pg}/pg_ctl", "-D", str(data), "-m", "fast", "stop"],
                   capture_output=True)  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
