"""The guard: one read of a mesh file before Blender's importer sees it.

Blender's importers crash on, hang on, or silently read wrongly files that the hostile-input corpus
(``tests/make_corpus.py``) holds: PLY counts that abort the process, a binary PLY header claiming
more faces than the file holds (the importer loops for minutes), face indices out of range (faces
silently dropped), truncated binaries, broken glTF accessors (a traceback), UTF-16 OBJs (garbage),
and NaN/inf coordinates (turned into 0 by the OBJ, PLY, STL and glTF importers, so the depth would
show a geometry the file does not hold).  :func:`guard_mesh_file` refuses those with one line that
starts with the path, and returns what its read found that the import needs
(:class:`~.facts.MeshFileFacts`: the OBJ's material libraries, the parsed OFF mesh), so that Blender's
importer is the only other reader of the file.

One module per format: :mod:`.obj`, :mod:`.ply` (the one PLY header parser and type table),
:mod:`.stl`, :mod:`.off` (also the OFF reader: Blender has none), :mod:`.gltf`; :mod:`.reading`
holds the chunked and memory-mapped reading they share.  Each reads its file once, streaming or
memory-mapped; nothing is allocated for a count a header declares before the file size (or, for OFF,
its lines) shows that the file holds it.  Pure Python + numpy (no bpy).
"""

from __future__ import annotations

import os

from ...errors import DepthViewsError
from .facts import Found, MeshFileFacts
from .gltf import guard_glb, guard_gltf
from .obj import guard_obj
from .off import guard_off
from .ply import guard_ply
from .stl import guard_stl

__all__ = ["GUARDED_SUFFIXES", "MeshFileFacts", "count_non_finite_vertices", "guard_mesh_file"]

_GUARDS = {".obj": guard_obj, ".ply": guard_ply, ".stl": guard_stl, ".off": guard_off,
           ".glb": guard_glb, ".gltf": guard_gltf}
GUARDED_SUFFIXES = tuple(_GUARDS)
"""Lower-case suffixes whose files are read and checked; others (.fbx, .blend) pass unread."""


def guard_mesh_file(path) -> MeshFileFacts:
    """Read the mesh file ``path`` once; refuse it if Blender must not import it as it is; return its facts.

    Raises :class:`DepthViewsError` (one line, starting with the path) for a structure problem (header,
    declared counts against the file size, face indices out of range, binary sizes, encoding) of
    ``.ply``, ``.obj``, ``.stl``, ``.off``, ``.glb`` and ``.gltf`` files, then for NaN or infinite
    vertex coordinates, and when the file cannot be read.  Other suffixes are not opened.
    """
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    found = Found()
    guard = _GUARDS.get(suffix)
    if guard is not None:
        try:
            with open(path, "rb") as handle:
                guard(path, handle, found)
        except OSError as error:
            raise DepthViewsError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if found.non_finite:
        importer = "glTF importer" if suffix in (".glb", ".gltf") else "importer"
        raise DepthViewsError(
            f"{path}: {found.non_finite} vertices have NaN or infinite coordinates "
            f"(Blender's {importer} would silently turn them into 0)")
    return found.facts(path, suffix)


def count_non_finite_vertices(path) -> int | None:
    """How many vertices of the mesh file ``path`` have a NaN or ±inf x, y or z, without refusing it.

    The count :func:`guard_mesh_file` refuses on, from the same reading: ``v x y z [w]`` lines of an
    OBJ, the first ``vertex`` element of a PLY (ASCII, binary little/big endian), every triangle
    corner of an STL (binary exactly when the size is ``84 + 50 * triangle count``, as Blender
    decides), the vertices of an OFF, glTF POSITION accessors.  Tokens such as ``nan``, ``-inf`` or
    ``1e999`` (overflow) count as non-finite.

    None for other suffixes and where the vertices cannot be counted (a header or layout the guard
    refuses before reaching them, a coordinate that is not a number); a binary PLY cut inside its
    vertices is counted as far as it goes.  Raises :class:`DepthViewsError` (starting with the path)
    only when the file cannot be read.
    """
    path = os.fspath(path)
    guard = _GUARDS.get(os.path.splitext(path)[1].lower())
    if guard is None:
        return None
    found = Found(count_even_if_refused=True)
    try:
        with open(path, "rb") as handle:
            guard(path, handle, found)
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except (DepthViewsError, ValueError, TypeError, IndexError, OverflowError):
        pass  # a structure the guard refuses: what was counted before it, if anything
    return found.non_finite
