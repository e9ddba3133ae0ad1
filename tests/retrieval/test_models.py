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


def test_a_photo_over_the_pixel_bound_is_refused_before_decoding(tmp_path, monkeypatch):
    """A small file can hold a huge image: its header is read, and it is never decoded."""
    from PIL import Image, ImageFile

    from retrieval.image_embedder import PhotoTooLargeError, open_image

    path = tmp_path / "bomb.png"
    Image.new("1", (13_000, 13_000)).save(path)  # a few hundred KB on disk, 169 megapixels
    assert path.stat().st_size < 2_000_000
    decode = ImageFile.ImageFile.load
    with monkeypatch.context() as m:
        m.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
        with pytest.raises(PhotoTooLargeError, match="13,000 × 13,000 pixels"):
            open_image(path, max_pixels=40_000_000)
    assert ImageFile.ImageFile.load is decode
    small = tmp_path / "ok.png"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(small)
    assert open_image(small, max_pixels=40_000_000).size == (64, 48)
