"""The query encoder on ONNX Runtime gives the model's own vectors, is exported once, and
the searcher falls back to torch (saying why) when it cannot be used."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.models import load_sentence_transformer
from retrieval.query_encoder import OnnxQueryEncoder, QueryEncoderUnavailable

QUERIES = ["jacket", "a red bag under 50", "blue tee for running", "x"]


def test_onnx_vectors_are_the_models_own_and_the_export_is_kept(tiny_text_model, tmp_path):
    onnx = OnnxQueryEncoder(tiny_text_model, threads=1, folder=tmp_path)
    want = load_sentence_transformer(tiny_text_model).encode(QUERIES, normalize_embeddings=True)
    got = onnx.embed(QUERIES)
    assert got.shape == want.shape and np.allclose((got * want).sum(1), 1.0, atol=1e-5)
    # one at a time as a search embeds them: the same as in a batch (padding changes nothing)
    assert np.allclose(np.stack([onnx.embed([q])[0] for q in QUERIES]), got, atol=1e-5)
    (exported,) = tmp_path.glob("*.onnx")
    stamp = exported.stat().st_mtime_ns
    OnnxQueryEncoder(tiny_text_model, threads=1, folder=tmp_path)
    assert exported.stat().st_mtime_ns == stamp  # loaded, not exported again


def test_a_model_that_is_not_mean_pooled_is_refused(tiny_text_model, tmp_path):
    from sentence_transformers import SentenceTransformer, models

    base = load_sentence_transformer(tiny_text_model)
    cls = models.Pooling(base[1].get_embedding_dimension(), "cls")
    folder = tmp_path / "cls-model"
    SentenceTransformer(modules=[base[0], cls], device="cpu").save(str(folder))
    with pytest.raises(QueryEncoderUnavailable, match="mean-pooled"):
        OnnxQueryEncoder(str(folder), threads=1, folder=tmp_path)


def test_the_searcher_ranks_alike_with_either_encoder_and_falls_back(
    tiny_catalog, tiny_config, monkeypatch
):
    from retrieval import query_encoder
    from retrieval.index import ProductIndex
    from retrieval.ingest import ingest
    from retrieval.schema import SearchRequest
    from retrieval.search import HybridSearcher

    ingest(tiny_catalog, tiny_config, progress=False)
    ranked = {}
    for choice in ("torch", "onnx"):
        config = tiny_config.model_copy(update={"query_encoder": choice})
        searcher = HybridSearcher(ProductIndex(config))
        kind = type(searcher.query_encoder).__name__
        assert kind == ("TextEmbedder" if choice == "torch" else "OnnxQueryEncoder")
        result = searcher.search(SearchRequest(text="red jacket", k=5))
        ranked[choice] = [c.product.id for c in result.candidates]
    assert ranked["onnx"] == ranked["torch"]

    # no ONNX Runtime (or a failed export): 'auto' keeps torch; 'onnx' names the problem
    monkeypatch.setattr(query_encoder, "load_query_encoder", lambda ref: (None, "no onnxruntime"))
    auto = HybridSearcher(ProductIndex(tiny_config))
    assert type(auto.query_encoder).__name__ == "TextEmbedder"
    forced = HybridSearcher(ProductIndex(tiny_config.model_copy(update={"query_encoder": "onnx"})))
    with pytest.raises(Exception, match="no onnxruntime"):
        forced.query_encoder  # noqa: B018
