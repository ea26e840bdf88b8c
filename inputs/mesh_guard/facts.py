"""What the one read of a mesh file hands to the import: :class:`MeshFileFacts`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MeshFileFacts:
    """What the guard's one read of a mesh file found that later stages need, so they need not reopen it.

    ``format`` is the lower-case suffix without its dot (``"obj"``, ``"ply"``, ``"fbx"``...).
    ``non_finite`` is how many vertices (STL: triangle corners) have a NaN or ±inf coordinate, or None
    where the file was not counted (FBX, .blend, or content the count cannot follow, e.g. an OBJ
    coordinate that is not a number; the importer reports those).  ``material_libraries`` are an
    OBJ's ``mtllib`` names in file order (bytes decoded as UTF-8, undecodable bytes replaced).
    ``parsed_mesh`` is ``(vertices, faces)`` for a format Blender has no importer for (OFF): the import
    builds the mesh from it (see :func:`depth_views.inputs.mesh_guard.off.read_off` for the types).
    """

    path: str
    format: str
    non_finite: int | None = None
    material_libraries: tuple[str, ...] = ()
    parsed_mesh: tuple | None = None


@dataclass
class Found:
    """Filled in by a format's guard while it reads (what it has found so far, also when it then refuses
    the file): the count of non-finite vertices is set once the vertex data has been read.  With
    ``count_even_if_refused``, a binary PLY refused for its structure still has its vertices counted
    (as far as the file holds them); otherwise none of its vertex data is read."""

    count_even_if_refused: bool = False
    non_finite: int | None = None
    material_libraries: list = field(default_factory=list)
    parsed_mesh: tuple | None = None

    def facts(self, path: str, suffix: str) -> MeshFileFacts:
        return MeshFileFacts(path, suffix.lstrip("."), self.non_finite, tuple(self.material_libraries),
                             self.parsed_mesh)
