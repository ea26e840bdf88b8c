"""The EXR readers against broken, unusual and fuzzed files: only DepthViewsError, naming the file."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from depth_views.errors import DepthViewsError
from depth_views.exr_io import read_channels, read_depth, read_depth_with_metadata, read_header, write_depth

READERS = (read_depth, read_depth_with_metadata, read_header, read_channels)
FUZZ_EXAMPLES = int(os.environ.get("DEPTH_VIEWS_FUZZ_EXAMPLES", "200"))  # more for a long local run


def outcome(reader, path):
    """None when ``reader`` read ``path``, else the DepthViewsError text (anything else escapes)."""
    try:
        reader(path)
    except DepthViewsError as error:
        return str(error)
    return None


def test_every_corpus_exr_reads_or_fails_with_the_expected_line(exr_corpus):
    folder, cases = exr_corpus
    assert len(cases) >= 15
    for case in cases:
        path = str(folder / case.name)
        message = outcome(read_depth, path)
        if case.expect is None:
            assert message is None, f"{case.name} ({case.what}): {message}"
            depth = read_depth(path)
            assert depth.dtype == np.float32 and depth.shape == (8, 16)
            assert np.allclose(depth, 1 + np.arange(128).reshape(8, 16) / 64, rtol=1e-3)
        else:
            assert message is not None, f"{case.name} ({case.what}) was read"
            assert message.startswith(path + ": ") and case.expect in message, message
            assert "\n" not in message


def test_every_reader_on_every_corpus_exr_raises_only_our_error(exr_corpus):
    folder, cases = exr_corpus
    for case in cases:
        path = str(folder / case.name)
        for reader in READERS:
            message = outcome(reader, path)
            assert message is None or (message.startswith(path + ": ") and "\n" not in message)


def test_huge_declared_size_is_refused_before_allocating(exr_corpus, monkeypatch):
    """The header says 1e6 x 1e6 pixels (4 TB of float32); the refusal comes from the header alone."""
    import OpenEXR

    folder, _ = exr_corpus
    opened = []
    real_file = OpenEXR.File
    monkeypatch.setattr(OpenEXR, "File", lambda *a, **k: opened.append(k) or real_file(*a, **k))
    with pytest.raises(DepthViewsError, match="implausible image size"):
        read_depth(folder / "huge_declared.exr")
    assert all(options.get("header_only") for options in opened)


def good_files(folder):
    """Small valid EXRs in several layouts: our own writer, half, tiled, multipart."""
    import OpenEXR

    depth = (1 + np.arange(96, dtype=np.float32).reshape(8, 12) / 7).astype(np.float32)
    write_depth(folder / "ours.exr", depth, K=np.diag([10.0, 10.0, 1.0]), world_to_camera=np.eye(4))
    write_depth(folder / "plain.exr", depth, compression="none")
    OpenEXR.File({"type": OpenEXR.scanlineimage, "compression": OpenEXR.RLE_COMPRESSION},
                 {"Z": depth.astype(np.float16)}).write(str(folder / "half.exr"))
    tiles = OpenEXR.TileDescription()
    tiles.xSize, tiles.ySize, tiles.mode = 4, 4, OpenEXR.ONE_LEVEL
    OpenEXR.File({"type": OpenEXR.tiledimage, "tiles": tiles, "compression": OpenEXR.PIZ_COMPRESSION},
                 {"Z": depth}).write(str(folder / "tiled.exr"))
    parts = [OpenEXR.Part({"type": OpenEXR.scanlineimage}, {"R": depth}, name="a"),
             OpenEXR.Part({"type": OpenEXR.scanlineimage}, {"depth.V": depth}, name="b")]
    OpenEXR.File(parts).write(str(folder / "multipart.exr"))
    return {name: (folder / name).read_bytes()
            for name in ("ours.exr", "plain.exr", "half.exr", "tiled.exr", "multipart.exr")}


class Seeds(dict):
    def __repr__(self):  # keep hypothesis' failure report short
        return f"<{len(self)} seed EXRs>"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return Seeds(good_files(tmp_path_factory.mktemp("exr seeds")))


def mutated(data: bytes, edits, cut) -> bytes:
    """``data`` with bytes overwritten at (position fraction, value) pairs, then cut to ``cut`` of it."""
    buffer = bytearray(data)
    for where, value in edits:
        buffer[int(where * (len(buffer) - 1))] = value
    return bytes(buffer[:max(0, int(cut * len(buffer)))])


def header_spliced(data: bytes, where: float, number: int) -> bytes:
    """``data`` with a 32-bit integer written into the first 400 bytes (counts, sizes, windows)."""
    buffer = bytearray(data)
    at = 8 + int(where * (min(len(buffer), 400) - 12))
    buffer[at:at + 4] = (number & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(buffer)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(["ours.exr", "plain.exr", "half.exr", "tiled.exr", "multipart.exr"]),
       edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       splice=st.none() | st.tuples(st.floats(0, 1), st.integers(-2**31, 2**32 - 1)),
       cut=st.one_of(st.just(1.0), st.floats(0, 1)))
@example(seed="half.exr", edits=[(0.046875, 10)], splice=None, cut=1.0)   # a channel name with a newline in it
def test_fuzzed_exr_raises_only_depth_views_error_naming_the_file(seeds, tmp_path, seed, edits, splice, cut):
    data = mutated(seeds[seed], edits, 1.0)
    if splice is not None:
        data = header_spliced(data, *splice)
    data = data[:int(cut * len(data))] if cut < 1.0 else data
    path = tmp_path / "fuzzed depth é.exr"
    path.write_bytes(data)
    for reader in READERS:
        try:
            result = reader(path)
        except DepthViewsError as error:
            text = str(error)
            assert text.startswith(str(path) + ": ") and "\n" not in text, text
            continue
        if reader is read_depth:
            assert result.dtype == np.float32 and result.ndim == 2


def test_reading_a_folder_or_a_missing_file_names_it(tmp_path):
    for path in (tmp_path, tmp_path / "missing.exr"):
        for reader in READERS:
            message = outcome(reader, path)
            assert message and message.startswith(str(path) + ": "), message
    assert os.path.isdir(tmp_path)
