"""Blender registration: properties, operators and panels, in that order; removal in reverse."""

from __future__ import annotations

import bpy

from . import operators, panels
from .panels import properties

CLASSES = properties.CLASSES + operators.CLASSES + panels.CLASSES


def register() -> None:
    for cls in CLASSES:
        if cls.is_registered:
            bpy.utils.unregister_class(cls)  # registering twice replaces, never duplicates
        bpy.utils.register_class(cls)
    bpy.types.Scene.depth_views = bpy.props.PointerProperty(type=properties.DepthViewsSettings)


def unregister() -> None:
    if hasattr(bpy.types.Scene, "depth_views"):
        del bpy.types.Scene.depth_views
    for cls in reversed(CLASSES):
        if cls.is_registered:
            bpy.utils.unregister_class(cls)
