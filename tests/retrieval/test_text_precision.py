"""Product texts in bf16: the same vectors as fp32 to a cosine of 0.999 (checked on probe
texts before use, else fp32 and why), and "auto" choosing it only where the hardware has
units for it."""

from __future__ import annotations

import numpy as np
import pytest

import retrieval.models as models
import retrieval.text_embedder as te
from retrieval.text_embedder import TextEmbedder

TEXTS = ["a red waterproof jacket", "organic green tea, 20 bags", " ".join(["wool"] * 300)]


def test_bf16_vectors_agree_with_fp32(tiny_text_model):
    exact = TextEmbedder(tiny_text_model, "cpu", precision="fp32").embed(TEXTS)
    fast = TextEmbedder(tiny_text_model, "cpu", precision="bf16")
    got = fast.embed(TEXTS)
    assert fast.precision == "bf16" and not fast.why_fp32
    assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    assert float((got * exact).sum(1).min()) >= te.BF16_AGREEMENT


def test_a_bf16_that_disagrees_falls_back_to_fp32_and_says_why(tiny_text_model, monkeypatch):
    te._bf16_disagrees.cache_clear()
    monkeypatch.setattr(te, "BF16_AGREEMENT", 1.5)  # no cosine reaches it
    embedder = TextEmbedder(tiny_text_model, "cpu", precision="bf16")
    got = embedder.embed(TEXTS[:1])
    te._bf16_disagrees.cache_clear()  # the next test checks with the real agreement
    assert embedder.precision == "fp32" and "disagrees with fp32" in embedder.why_fp32
    exact = TextEmbedder(tiny_text_model, "cpu", precision="fp32").embed(TEXTS[:1])
    assert np.allclose(got, exact)


@pytest.mark.parametrize(("amx", "avx512_bf16", "expected"), [
    (True, False, "bf16"), (False, True, "bf16"), (False, False, "fp32"),
])  # fmt: skip
def test_auto_picks_bf16_only_with_units_for_it(amx, avx512_bf16, expected, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    assert models.resolve_precision("auto", "cpu") == expected
    assert models.resolve_precision("auto", "cuda") == "bf16"
    assert models.resolve_precision("fp32", "cuda") == "fp32"
