"""Shared fixtures.  Tests that need Blender import ``bpy`` through ``needs_bpy``; the rest run anywhere."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # the test helpers (geometry.py, meshes.py)


@pytest.fixture(autouse=True)
def fresh_blender():
    """Every test starts from Blender's empty factory scene (when bpy is loaded at all)."""
    bpy = sys.modules.get("bpy")
    if bpy is not None:
        bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)



@pytest.fixture(scope="session")
def cluttered_checkout(tmp_path_factory):
    """A git copy of this checkout with virtual environments and stray folders in it (checkout.py)."""
    from checkout import cluttered_copy

    return cluttered_copy(tmp_path_factory.mktemp("clone") / "depth_views")
