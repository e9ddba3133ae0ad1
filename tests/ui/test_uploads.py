"""A handler opens a file only if Gradio's upload route wrote it."""

import pytest

from ui.uploads import upload_folder, uploaded


def test_only_files_in_the_upload_folder_are_opened(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    inside = upload_folder() / "abc" / "photo.png"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"x")
    assert uploaded(str(inside)) == inside
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    for path in [outside, upload_folder() / ".." / "secret.png", "/etc/passwd", upload_folder()]:
        with pytest.raises(ValueError, match="not uploaded here"):
            uploaded(path)
