"""The vector store by URL (a real `chroma run` server on loopback), the ANN search path,
and image encoders other than the default (a tiny CLIP built here)."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.index import ProductIndex
from retrieval.ingest import ingest
from retrieval.schema import SearchFilters, SearchRequest
from retrieval.search import HybridSearcher, SearchTuning


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    proc = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.slow
def test_the_same_code_runs_against_a_chroma_server(chroma_server, tiny_catalog, tiny_config):
    config = tiny_config.model_copy(update={"chroma_url": chroma_server})
    report = ingest(tiny_catalog, config, progress=False)
    assert report.indexed == 5
    index = ProductIndex(config)
    assert index.store.where == f"Chroma server {chroma_server}"
    assert (
        index.store.count(index.manifest.collection("text")) == 5
        and index.store.count(index.manifest.collection("photos")) == 5
    )
    assert not (Path(config.index_dir) / "chroma").exists()  # nothing embedded locally
    # force the ANN path so the query goes to the server
    searcher = HybridSearcher(index, tuning=SearchTuning(exact_below=1))
    result = searcher.search(SearchRequest(text="jacket", filters=SearchFilters(price_max=80)))
    assert result.candidates and all(c.product.price <= 80 for c in result.candidates)


def test_ann_path_agrees_with_exact_search(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    index = ProductIndex(tiny_config)
    ann = HybridSearcher(index, tuning=SearchTuning(exact_below=1))
    exact = HybridSearcher(index, tuning=SearchTuning(exact_below=10**9))
    for text, f in [
        ("jacket", SearchFilters()),
        ("bag", SearchFilters(facets={"color": ["black"]})),
        ("warm", SearchFilters(exclude_facets={"color": ["yellow"]}, price_max=99)),
    ]:
        a = ann.search(SearchRequest(text=text, filters=f))
        e = exact.search(SearchRequest(text=text, filters=f))
        assert [c.product.id for c in a.candidates] == [c.product.id for c in e.candidates]


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> str:
    """A randomly initialised CLIP (both towers) with its processor, saved as a folder."""
    import json

    import torch
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizerFast,
    )

    folder = tmp_path_factory.mktemp("tiny-clip")
    chars = list("abcdefghijklmnopqrstuvwxyz")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in chars + [c + "</w>" for c in chars]:
        vocab[token] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizerFast(
        vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt")
    )
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 32,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=8,
    )
    CLIPModel(config).save_pretrained(folder)
    return str(folder)


def test_a_clip_model_plugs_into_the_image_encoder_interface(tiny_clip, tiny_catalog, tiny_config):
    config = tiny_config.model_copy(update={"image_model": tiny_clip})
    report = ingest(tiny_catalog, config, progress=False)
    assert report.photos_encoded == 5
    index = ProductIndex(config)
    assert index.manifest.visual_dim == 8 and index.manifest.text_space_dim == 8
    searcher = HybridSearcher(index)
    assert not searcher.image_encoder.shares_text_space
    result = searcher.search(SearchRequest(text="jacket"))
    assert any("image_text" in c.signals for c in result.candidates)
    photo = tiny_catalog.parent / "images" / "w1.png"
    top = searcher.search(SearchRequest(image_path=str(photo))).candidates[0]
    assert top.product.id == "W1"  # its own photo: cosine 1


def test_an_index_without_images_searches_by_text(tiny_catalog, tiny_config):
    config = tiny_config.model_copy(update={"image_model": "none"})
    report = ingest(tiny_catalog, config, progress=False)
    assert report.photos_encoded == 0 and report.indexed == 5
    searcher = HybridSearcher(ProductIndex(config))
    result = searcher.search(SearchRequest(text="jacket"))
    assert {"lexical", "dense"} >= {s for c in result.candidates for s in c.signals}
    with pytest.raises(ValueError, match="without an image model"):
        searcher.search(SearchRequest(image_path=str(tiny_catalog.parent / "images" / "w1.png")))


def test_changing_the_model_re_embeds_everything(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    config = tiny_config.model_copy(update={"image_model": "none"})
    report = ingest(tiny_catalog, config, progress=False)
    assert report.texts_embedded == 5 and report.unchanged == 0
    assert np.asarray(ProductIndex(config).vectors.image_text).shape[1] == 0


def test_the_text_read_is_bounded_and_a_new_bound_re_embeds(tiny_catalog, tiny_config):
    """`text_max_tokens`: the text model reads at most that many tokens of a product's
    text (the same vector as the text cut there); changing it embeds everything again."""
    from retrieval.text_embedder import TextEmbedder

    short = TextEmbedder(tiny_config.text_model, "cpu", max_tokens=16)
    long_text = " ".join(["waterproof hiking jacket with hood"] * 20)
    ids = short.model.tokenizer(long_text)["input_ids"][1:15]  # 14 words + [CLS] + [SEP]
    cut = short.model.tokenizer.decode(ids)
    (a, b) = short.embed([long_text, cut])
    assert float(a @ b) > 0.9999
    whole = TextEmbedder(tiny_config.text_model, "cpu").embed([long_text])[0]
    assert float(a @ whole) < 0.9999  # without the bound, more of the text is read

    config = tiny_config.model_copy(update={"text_max_tokens": 16})
    ingest(tiny_catalog, config, progress=False)
    assert ProductIndex(config).manifest.text_max_tokens == 16
    again = ingest(tiny_catalog, config, progress=False)
    assert again.texts_embedded == 0
    report = ingest(tiny_catalog, tiny_config, progress=False)
    assert report.texts_embedded == 5 and report.unchanged == 0
