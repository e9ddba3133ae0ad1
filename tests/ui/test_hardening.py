"""`aisle serve` as an attacker meets it, on the three catalog shapes: request paths are
never opened, only the index's photo copies are served."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .raw_client import call, file_paths
from .test_shopper_page import launch_on

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
INDEXES = {"luma": "demo_index", "vendure": "vendure_index", "grocery": "grocery_index"}


@pytest.fixture(scope="module", params=sorted(INDEXES))
def shop(request, tmp_path_factory):
    config = request.getfixturevalue(INDEXES[request.param])[0]
    server, settings = launch_on(config, tmp_path_factory)
    yield request.param, server, settings
    server.close()


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("private") / "secret.png"
    Image.new("RGB", (9, 9), (1, 2, 3)).save(path)
    return path


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_path_posted_to_the_chat_is_never_opened(shop, secret):
    name, server, _ = shop
    catalog_photo = (
        next((REPO / "data" / name / "images").glob("*"), None) if name != "grocery" else None
    )
    for target in [secret, REPO / "README.md", catalog_photo]:
        if target is None:
            continue
        message = {
            "text": "x",
            "files": [{"path": str(target), "meta": {"_type": "gradio.FileData"}}],
        }
        messages = call(server.url, "chat", [message, None, None, None])
        assert messages[-1]["msg"] == "process_completed"
        served = file_paths(messages)
        assert not [p for p in served if target.name in p], (target, served)
        for p in served:  # whatever it did send back is not the file asked for
            assert get(p) != 200 or target.name not in p


def test_only_the_index_photo_copies_are_served(shop, secret):
    name, server, settings = shop
    base = server.url + "gradio_api/file="
    outside = [
        secret,
        REPO / "README.md",
        Path("/etc/passwd"),
        REPO / "data" / name / "products.csv",
    ]
    if name != "grocery":
        outside.append(next((REPO / "data" / name / "images").glob("*")))
    for path in outside:
        assert get(base + str(path)) == 403, path
    copies = sorted((Path(settings.index_dir) / "photos").glob("*.jpg"))
    if name == "grocery":
        assert not copies  # no photos in this catalog: nothing to serve
    else:
        assert get(base + str(copies[0])) == 200
