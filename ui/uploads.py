"""Files a browser hands to a handler. Gradio checks them itself once the app is marked
as launched (`ui.serve`); this second check keeps a handler from ever opening a path a
request names unless Gradio's upload route wrote it."""

from __future__ import annotations

from pathlib import Path


def upload_folder() -> Path:
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def uploaded(path: str | Path) -> Path:
    """`path` if it is a file the upload route wrote, else ValueError naming nothing of the
    server's layout."""
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(upload_folder()) or not resolved.is_file():
        raise ValueError("that file was not uploaded here; attach it again")
    return resolved
