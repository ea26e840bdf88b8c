"""Which OpenEXR implementation this process can use: the OpenEXR package, or the plain fallback.

Inside Blender older than 4.2 (Debian's 3.4, say) Blender's own OpenEXR library clashes with the
wheel's: reading crashes Blender or returns garbage (measured with the 3.3 and 3.5 wheels), so there
:data:`OpenEXR` is None and :mod:`.plain_exr` reads and writes uncompressed files instead.  Setting
``DEPTH_VIEWS_PLAIN_EXR=1`` forces the fallback anywhere (used by the tests).
"""

from __future__ import annotations

import os
import sys


def _inside_old_blender() -> bool:
    bpy = sys.modules.get("bpy")
    version = getattr(getattr(bpy, "app", None), "version", None)
    return version is not None and tuple(version) < (4, 2, 0)


def load_openexr():
    """The ``OpenEXR`` module, or None where it is absent or unsafe in this process."""
    if os.environ.get("DEPTH_VIEWS_PLAIN_EXR") == "1" or _inside_old_blender():
        return None
    try:
        import OpenEXR
    except ImportError:
        return None
    return OpenEXR


OpenEXR = load_openexr()
