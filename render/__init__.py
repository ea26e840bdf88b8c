"""Stage 4, render: Blender renders the views and the per-input job writes them.

- :mod:`.plan`: ``plan_views`` - one input's cameras, clip range and normalisation (needs bpy);
- :mod:`.renderer`: ``DepthRenderer`` - the scene set up for depth, views to numpy arrays (needs bpy);
- :mod:`.job`: ``RenderJob`` - one input to a folder: plan, render, write; ``render_views`` - the same
  plan into numpy arrays in memory (needs bpy);
- :mod:`.allocator`: the glibc allocator setting a render process takes at start (no bpy).

``from depth_views.render import render_views`` (and ``DepthRenderer``, ``ViewResult``) keeps working;
the Blender modules are imported only when one of those names is first used, so importing
``depth_views.render.allocator`` needs no bpy.
"""

_LAZY_NAMES = {"DepthRenderer": "renderer", "ViewResult": "renderer", "render_views": "job"}


def __getattr__(name):
    if name in _LAZY_NAMES:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
