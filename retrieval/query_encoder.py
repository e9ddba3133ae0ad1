"""The query encoder on ONNX Runtime: the same sentence-transformers model, exported once to
ONNX and run in fp32, for the one short text a search embeds per turn.

Measured (`python -m evals.benchmarks.query_encoder`, one thread): ~3× faster than
sentence-transformers' `encode` for a query, with the same vectors (cosine 1.000000,
recall@10 against the fp32 document vectors 1.000 on the judged queries of the three
catalogs). Dynamic int8 quantisation was faster too but moved the top 10 (recall@10 0.84),
so it is not used. Documents are still embedded by sentence-transformers at ingest.

Used only when it reproduces the torch vectors for a probe text; otherwise (no onnx or
onnxruntime, a model that is not Transformer + mean pooling, an export that fails) the
searcher keeps the torch encoder and says why."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from .models import inference_threads, load_sentence_transformer

log = logging.getLogger(__name__)
AGREEMENT = 0.9999  # cosine with the torch vector a probe must reach


class QueryEncoderUnavailable(RuntimeError):
    pass


def _probe(tokenizer, n: int = 16) -> str:
    """A text to compare the two encoders on, from the model's own vocabulary (no shop's
    words): `n` ordinary tokens spread evenly across it, decoded."""
    special = set(tokenizer.all_special_ids)
    ids = [i for i in range(len(tokenizer)) if i not in special]
    step = max(1, len(ids) // n)
    return tokenizer.decode(ids[::step][:n], skip_special_tokens=True)


def cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "aisle" / "onnx"


class OnnxQueryEncoder:
    """Mean-pooled, L2-normalised embeddings from the model's transformer run by ORT."""

    def __init__(self, model_ref: str, threads: int | None = None, folder: Path | None = None):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise QueryEncoderUnavailable(f"onnxruntime is not installed ({exc})") from exc
        st = load_sentence_transformer(model_ref, "cpu")
        names = [type(m).__name__ for m in st]
        pooling = st[1] if len(st) > 1 else None
        mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers ≥ 5
        if mode is None and hasattr(pooling, "get_pooling_mode_str"):
            mode = pooling.get_pooling_mode_str()
        if names[:2] != ["Transformer", "Pooling"] or mode != "mean":
            raise QueryEncoderUnavailable(f"not a mean-pooled transformer ({names})")
        self.tokenizer = st.tokenizer
        self.max_length = st.max_seq_length
        path = self._exported(st, folder or cache_dir())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or inference_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        probe = _probe(st.tokenizer)
        want = np.asarray(st.encode([probe], normalize_embeddings=True), np.float32)[0]
        got = self.embed([probe])[0]
        if float(want @ got) < AGREEMENT:
            raise QueryEncoderUnavailable(
                f"the ONNX export disagrees with the model (cosine {float(want @ got):.5f})"
            )

    @staticmethod
    def _exported(st, folder: Path) -> Path:
        """The model's transformer as ONNX, exported once per model (named by a digest of
        its weights' shapes and values' checksum) and kept in `folder`."""
        import torch

        model = st[0].model.eval()
        digest = hashlib.sha1()
        for name, tensor in model.state_dict().items():
            digest.update(name.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(np.float64(tensor.float().sum().item()).tobytes())
        path = folder / f"{type(model).__name__}-{digest.hexdigest()[:16]}.onnx"
        if path.is_file():
            return path
        folder.mkdir(parents=True, exist_ok=True)

        class LastHidden(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask):
                return self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]

        example = st.tokenizer(["a query"], return_tensors="pt")
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        axes = {0: "batch", 1: "tokens"}
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's notes on code paths not taken
                torch.onnx.export(
                    LastHidden(model),
                    (example["input_ids"], example["attention_mask"]),
                    str(tmp),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["hidden"],
                    dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
                    opset_version=17,
                    dynamo=False,
                )
            tmp.replace(path)  # another process exporting the same model writes the same bytes
        except Exception as exc:  # noqa: BLE001 - no onnx package, an op it cannot export …
            tmp.unlink(missing_ok=True)
            raise QueryEncoderUnavailable(f"the ONNX export failed: {exc}") from exc
        return path

    def embed(self, texts: list[str]) -> np.ndarray:
        t = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np"
        )
        mask = t["attention_mask"].astype(np.int64)
        (hidden,) = self.session.run(
            None, {"input_ids": t["input_ids"].astype(np.int64), "attention_mask": mask}
        )
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


@functools.cache
def load_query_encoder(model_ref: str) -> tuple[OnnxQueryEncoder | None, str | None]:
    """The ONNX query encoder for this model, shared by the process, or None and why."""
    try:
        return OnnxQueryEncoder(model_ref), None
    except QueryEncoderUnavailable as exc:
        log.warning("query encoder: torch (%s)", exc)
        return None, str(exc)
