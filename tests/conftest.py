"""Shared fixtures.  Tests live by stage (``tests/cameras/``, ``tests/render/``, ...); the helper modules they
import (geometry.py, meshes.py, make_corpus.py, ...) live here, in ``tests/``, which is put on ``sys.path``.
Tests that need Blender ``pytest.importorskip("bpy")``; the rest run anywhere."""

from __future__ import annotations

import importlib.util
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
def mesh_corpus(tmp_path_factory):
    """``(folder, cases)`` of the hostile meshes (see make_corpus.write_mesh_corpus)."""
    import make_corpus

    folder = tmp_path_factory.mktemp("mesh corpus é")  # a space and a non-ASCII letter on purpose
    return folder, make_corpus.write_mesh_corpus(folder)


@pytest.fixture(scope="session")
def exr_corpus(tmp_path_factory):
    """``(folder, cases)`` of the hostile EXRs (see make_corpus.write_exr_corpus)."""
    import make_corpus

    pytest.importorskip("OpenEXR")
    folder = tmp_path_factory.mktemp("exr corpus")
    return folder, make_corpus.write_exr_corpus(folder)



@pytest.fixture(scope="session")
def hf_datasets(tmp_path_factory):
    """Hugging Face ``datasets`` (the test skips without it), its cache in a session folder, offline (hf.py)."""
    from hf import import_hf_datasets, offline_environment

    environment = offline_environment(tmp_path_factory.mktemp("hf cache"))
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)   # before the import: datasets reads them then
    try:
        module = import_hf_datasets()
        if module is None:
            pytest.skip("needs Hugging Face datasets (pip install datasets)")
        module.disable_progress_bars()
        yield module
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def cluttered_checkout(tmp_path_factory):
    """A git copy of this checkout with virtual environments and stray folders in it (checkout.py)."""
    from checkout import cluttered_copy

    return cluttered_copy(tmp_path_factory.mktemp("clone") / "depth_views")


PURE_TESTS_ENV = "DEPTH_VIEWS_PURE_TESTS"
"""A file of test ids that pass without Blender.  .ci/run has the readers-only suite write it (no bpy
there) and the bpy 4.5 and 4.2 suites leave those tests out: they ran already, and again under bpy 5.0.1."""
BPY_INSTALLED = importlib.util.find_spec("bpy") is not None   # asked once: some tests stub sys.modules["bpy"]


def pytest_collection_modifyitems(config, items):
    path = os.environ.get(PURE_TESTS_ENV)
    if not path or not BPY_INSTALLED:
        return
    try:
        with open(path, encoding="utf-8") as stream:
            pure = set(stream.read().split("\n"))
    except OSError:
        return
    kept = [item for item in items if item.nodeid not in pure]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid in pure])
    items[:] = kept


def pytest_runtest_logreport(report):
    """Without bpy, with ``DEPTH_VIEWS_PURE_TESTS`` set: record each test that passed."""
    path = os.environ.get(PURE_TESTS_ENV)
    if path and report.when == "call" and report.passed and not BPY_INSTALLED:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(report.nodeid + "\n")


_EXIT_STATUS = {}


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["status"] = int(exitstatus)


def pytest_unconfigure(config):
    """With the bpy module loaded, leave without Python's interpreter finalisation once pytest is done.

    Blender's module tears down its GPU (llvmpipe) threads at finalisation; seen once here with bpy 4.5
    in the whole suite, the process printed its summary and then waited forever on a futex.  Everything
    the run reports (results, summary, exit status) is written before this hook, so nothing is lost."""
    if "bpy" in sys.modules and "status" in _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["status"])
