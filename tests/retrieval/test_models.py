from pathlib import Path

import pytest

from retrieval.models import ModelUnavailableError, load_sentence_transformer, resolve_text_model
from retrieval.text_embedder import TextEmbedder


def test_a_local_folder_wins(tiny_text_model):
    assert resolve_text_model(tiny_text_model) == tiny_text_model


def test_aliases_resolve_to_the_packaged_copy_offline():
    folder = Path(resolve_text_model("minilm"))
    assert (folder / "modules.json").is_file()
    assert resolve_text_model("sentence-transformers/all-MiniLM-L6-v2") == str(folder)


def test_an_unknown_reference_stays_a_hub_id_and_fails_with_its_name():
    assert resolve_text_model("someone/some-model") == "someone/some-model"
    with pytest.raises(ModelUnavailableError, match="someone/some-model"):
        load_sentence_transformer("someone/some-model", "cpu")


def test_models_load_once_per_process(tiny_text_model):
    a = TextEmbedder(tiny_text_model).model
    b = TextEmbedder(tiny_text_model).model
    assert a is b


@pytest.mark.slow
def test_mpnet_is_joined_from_its_wheels_and_embeds():
    folder = Path(resolve_text_model("mpnet"))
    assert (folder / "modules.json").is_file(), folder
    vectors = TextEmbedder("mpnet").embed(["a warm jacket", "a winter coat", "a water bottle"])
    assert vectors.shape == (3, 768)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
