"""Refactoring changes no output: a fixed set of renders (examples/suzanne.obj with several passes and
formats, a camera file, WebDataset shards) gives the same depth arrays, passes and cameras.json, digest
for digest, as the reference kept from before the settings were resolved once (tests/reference_render.py)."""

from __future__ import annotations

import json
import os

import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("trimesh")

from reference_render import fingerprint, reference_name  # noqa: E402


def test_the_fixed_renders_equal_the_kept_reference(tmp_path):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", reference_name())
    if not os.path.exists(path):
        pytest.skip(f"no reference for Blender {bpy.app.version_string} ({path})")
    with open(path, encoding="utf-8") as stream:
        reference = json.load(stream)
    digests = fingerprint(str(tmp_path.resolve()))
    assert sorted(digests) == sorted(reference)            # the same files and tar members
    changed = sorted(name for name in reference if digests[name] != reference[name])
    assert not changed, f"outputs differ from the reference: {changed}"
