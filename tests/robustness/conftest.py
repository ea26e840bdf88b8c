"""The hostile-input corpus, generated once per test session into a temporary folder."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # make_corpus

import make_corpus  # noqa: E402


@pytest.fixture(scope="session")
def mesh_corpus(tmp_path_factory):
    """``(folder, cases)`` of the hostile meshes (see make_corpus.write_mesh_corpus)."""
    folder = tmp_path_factory.mktemp("mesh corpus é")  # a space and a non-ASCII letter on purpose
    return folder, make_corpus.write_mesh_corpus(folder)


@pytest.fixture(scope="session")
def exr_corpus(tmp_path_factory):
    """``(folder, cases)`` of the hostile EXRs (see make_corpus.write_exr_corpus)."""
    pytest.importorskip("OpenEXR")
    folder = tmp_path_factory.mktemp("exr corpus")
    return folder, make_corpus.write_exr_corpus(folder)
