"""Settings the retrieval layer needs. `assistant.config.Settings` extends this, so there
is one settings object for the whole product; retrieval never imports `assistant`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


def default_index_dir() -> Path:
    import os

    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "aisle" / "index"


class RetrievalConfig(BaseModel):
    index_dir: Path = Field(default_factory=default_index_dir, description="index folder")
    chroma_url: str | None = Field(
        None, description="Chroma server URL (http://host:8000); default: embedded in index_dir"
    )
    collection_prefix: str = Field("aisle", description="prefix of the Chroma collection names")
    text_model: str = Field(
        "minilm", description="'minilm', 'mpnet', a local sentence-transformers folder or a hub id"
    )
    image_model: str = Field(
        "efficientnet-lite0",
        description="'efficientnet-lite0', 'none', or a CLIP model (local folder or hub id)",
    )
    device: str = Field("auto", description="'auto', 'cpu', 'cuda' …")
    lexicon_file: Path | None = Field(
        None,
        description="the shop's own synonyms ([synonyms] in TOML); default at ingest: "
        "<catalog>.lexicon.toml beside the catalog",
    )
    batch_size: int = Field(64, ge=1)
    text_max_tokens: int | None = Field(
        None,
        ge=16,
        description="the most tokens of a product's text the text model reads (title, "
        "category and facets come first); unset: the model's own limit (MiniLM: 256). 128 "
        "embeds long texts twice as fast, NDCG@10 within noise on the four measured "
        "catalogs (docs/measurements.md); a change re-embeds everything",
    )
    text_precision: str = Field(
        "auto",
        description="auto | fp32 | bf16: the product texts' embedding arithmetic; auto: bf16 "
        "where the hardware has units for it (a GPU; a CPU with AMX or AVX-512 BF16), checked "
        "against fp32 on a probe text, fp32 elsewhere",
    )
    fetch_images: bool = Field(
        True, description="download photos given by http(s) URL at ingest (into the index's cache)"
    )
    fetch_allow_private: bool = Field(
        False,
        description="also fetch from private and loopback addresses (a feed on your own network)",
    )
    fetch_max_mb: int = Field(20, ge=1, le=200, description="largest photo downloaded")
    fetch_timeout_s: float = Field(10.0, gt=0, le=120, description="per photo request")
    fetch_workers: int = Field(8, ge=1, le=64, description="photos downloaded at once")
    max_photo_pixels: int = Field(
        40_000_000,
        ge=10_000,
        description="the largest photo decoded (width × height), checked from its header "
        "before decoding: a small file can hold a huge image",
    )
    query_encoder: str = Field(
        "auto",
        description="'auto' (ONNX Runtime on a CPU when it reproduces the model's vectors, "
        "else torch), 'onnx', 'torch': what embeds a search's query",
    )
