"""Writing a file whole or not at all: a temporary file in the same folder, then a rename (pure Python).

Used for every camera file and JSON document Depth Views writes (cameras.json, transforms.json, the
COLMAP and NeRF-synthetic exports), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile

from ..errors import DepthViewsError


def write_json_atomic(path: str, document: dict) -> None:
    """Write ``document`` as indented JSON to ``path`` via a temporary file and a rename."""
    write_text_atomic(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot write into folder {folder} ({error.strerror or error})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(error, OSError):  # a full disk, a read-only or vanished folder
            raise DepthViewsError(f"{path}: cannot write ({error.strerror or error})") from None
        raise
