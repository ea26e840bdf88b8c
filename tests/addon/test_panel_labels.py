"""No text of the Depth Views sidebar is cut ("Normalis…") at Blender's default sidebar width: every
label, checkbox, dropdown item and button text is measured in Blender's UI font (tests/panel_labels.py).
The real-window test (tests/addon/test_blender_gui.py) runs the same check in Debian's Blender 3.4."""

from __future__ import annotations

import pytest

bpy = pytest.importorskip("bpy")

import depth_views  # noqa: E402
from depth_views import panels  # noqa: E402
from panel_labels import DEFAULT_SIDEBAR_WIDTH, cut_texts, drawn_texts, panel_states  # noqa: E402


@pytest.fixture
def addon():
    depth_views.register()
    yield
    depth_views.unregister()


def test_no_sidebar_text_is_cut_at_the_default_width(addon):
    seen, cut = set(), []
    for _ in panel_states(bpy.context.scene.depth_views):
        seen |= {text for _, text, _, _ in drawn_texts(panels.CLASSES, bpy.context)}
        cut += cut_texts(panels.CLASSES, bpy.context)
    assert {"Render Depth Views", "Target", "Selected Objects", "Azimuths", "Preview Near", "Fused PLY"} & seen
    assert sorted(set(cut)) == []


def test_the_check_finds_cut_texts_in_a_narrow_sidebar(addon):
    """The same panels in a sidebar 60 px narrower than the default: long texts are reported."""
    cut = cut_texts(panels.CLASSES, bpy.context, DEFAULT_SIDEBAR_WIDTH - 60)
    assert any("Render Depth Views" in line for line in cut) and len(cut) >= 5
