"""The one exception type Depth Views raises for problems a user can act on."""


class DepthViewsError(Exception):
    """A problem with an input, an option or an output that the user can fix.

    The message is one line and names the file (or option) and the problem, e.g.
    ``"/data/chair.ply: the mesh has no faces (42 vertices, 0 faces)"``.
    """


def bpy_missing(error: ImportError) -> DepthViewsError:
    """The one line for rendering in a Python without Blender's module (``error``: the failed import)."""
    return DepthViewsError(f"rendering needs Blender's Python module bpy ({error}); install it with "
                           "pip install 'depth_views[blender]' or run inside Blender")
