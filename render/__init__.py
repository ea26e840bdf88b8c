"""Stage 4, render: Blender renders the views and the per-input job writes them.

- :mod:`.renderer`: ``DepthRenderer`` / ``render_views`` - views to numpy arrays (needs bpy);
- :mod:`.job`: ``RenderJob`` - one input file to a folder: plan, render, write (needs bpy);
- :mod:`.allocator`: the glibc allocator setting a render process takes at start (no bpy).

``from depth_views.render import render_views`` (and ``DepthRenderer``, ``ViewResult``) keeps working;
the Blender modules are imported only when one of those names is first used, so importing
``depth_views.render.allocator`` needs no bpy.
"""

_RENDERER_NAMES = ("DepthRenderer", "ViewResult", "render_views")


def __getattr__(name):
    if name in _RENDERER_NAMES:
        from . import renderer

        return getattr(renderer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
