"""Which texts of the Depth Views sidebar Blender would cut ("Normalis…") at a given sidebar width.

Every panel's ``draw`` is run against a recording layout (no window needed) in several settings states,
so that every row that can appear is seen; each text is measured with ``blf`` in Blender's UI font
(11 pt, the default UI font of the running Blender) and compared with the room Blender's layout gives
it.  The room model below was measured on Blender 3.4's sidebar at its default width (UI scale 1,
docs/addon_panel.png): label column 57 px, dropdown text 62 px, checkbox text 68 px; it is the
property-split layout (40 % label column, 60 % value column, one decorator column) of Blender 3.4 to
5.0.  Used by tests/addon/test_panel_labels.py (bpy module, every supported Blender) and by the real-window
driver (tests/gui/blender_gui_driver.py, the real font and the real region width).
"""

from __future__ import annotations

# The UI region's width when the sidebar opens (Blender's default, UI scale 1), in pixels.
DEFAULT_SIDEBAR_WIDTH = 220
TABS, MARGINS, UNIT = 28, 16, 20          # category tab strip, panel margins, one icon / decorator column


def rooms(region_width: float) -> dict[str, float]:
    """Pixels of text room per kind of item, for a sidebar ``region_width`` pixels wide (UI scale 1)."""
    content = region_width - TABS - MARGINS
    split = content - UNIT                # the decorator column is taken off first
    return {"label_column": 0.4 * split - 6, "dropdown": 0.6 * split - 28, "checkbox": 0.6 * split - 26,
            "toggle": 0.6 * split - 12, "full": content - 12}


class _Recorder:
    """Stands in for ``UILayout``: records what would be drawn, with the layout's property split."""

    def __init__(self, items: list, parent: "_Recorder | None" = None, row: bool = False):
        self._items, self._parent, self._own_split, self.row_items = items, parent, None, [] if row else None
        self.enabled = self.active = True

    @property
    def use_property_split(self) -> bool:
        if self._own_split is not None:
            return self._own_split
        return self._parent.use_property_split if self._parent else False

    @use_property_split.setter
    def use_property_split(self, value: bool) -> None:
        self._own_split = value

    def row(self, **_):
        return _Recorder(self._items, self, row=True)

    def column(self, **_):
        return _Recorder(self._items, self)

    def _add(self, item: dict) -> None:
        item["row"] = self.row_items
        if self.row_items is not None:
            self.row_items.append(item)
        self._items.append(item)

    def prop(self, data, name, text=None, **_):
        self._add({"kind": "prop", "data": data, "name": name, "text": text, "split": self.use_property_split})

    def operator(self, idname, text=None, icon="NONE", **_):
        self._add({"kind": "operator", "idname": idname, "text": text, "icon": icon})

    def label(self, text="", icon="NONE", **_):
        self._add({"kind": "label", "text": text, "icon": icon})

    def separator(self, **_):
        pass


def _operator_label(idname: str) -> str:
    import bpy

    module, name = idname.split(".")
    return getattr(getattr(bpy.ops, module), name).get_rna_type().name


def drawn_texts(panel_classes, context) -> list[tuple[str, str, str, int]]:
    """``(panel label, text, room kind, icons beside it)`` for every text the panels draw.  Values of
    strings and numbers, and the last output folder, are data (Blender shortens long paths on purpose)."""
    data = {context.scene.depth_views.last_output}
    texts = []
    for panel in panel_classes:
        items: list = []
        holder = type("Panel", (), {"layout": _Recorder(items)})()
        panel.draw(holder, context)
        for item in items:
            if item["kind"] == "operator":
                text = _operator_label(item["idname"]) if item["text"] is None else item["text"]
                if text:
                    texts.append((panel.bl_label, text, "full", _icon_only_siblings(item)))
                continue
            if item["kind"] == "label":
                if item["text"] and item["text"] not in data:
                    texts.append((panel.bl_label, item["text"], "full", 1 if item["icon"] != "NONE" else 0))
                continue
            rna = item["data"].bl_rna.properties[item["name"]]
            name = rna.name if item["text"] is None else item["text"]
            if rna.type == "BOOLEAN":
                texts.append((panel.bl_label, name, "checkbox" if item["split"] else "full", 1))
            elif rna.type == "ENUM" and rna.is_enum_flag:
                texts += [(panel.bl_label, e.name, "toggle", 0) for e in rna.enum_items]
                texts.append((panel.bl_label, name, "label_column", 0))
            else:
                if name:
                    texts.append((panel.bl_label, name, "label_column" if item["split"] else "full", 0))
                if rna.type == "ENUM":
                    texts += [(panel.bl_label, e.name, "dropdown", 0) for e in rna.enum_items]
    return texts


def _icon_only_siblings(item: dict) -> int:
    row = item["row"] or [item]
    return 1 + sum(1 for other in row if other is not item and other.get("text") == "")


def text_width(text: str) -> float:
    """Width of ``text`` in pixels at UI scale 1, in the running Blender's UI font (11 pt)."""
    import blf

    try:
        blf.size(0, 11)
    except TypeError:  # Blender < 4.0: size(fontid, size, dpi)
        blf.size(0, 11, 72)
    return blf.dimensions(0, text)[0]


def cut_texts(panel_classes, context, region_width: float = DEFAULT_SIDEBAR_WIDTH) -> list[str]:
    """One line per text Blender would cut at ``region_width``: panel, text, its width and its room."""
    room = rooms(region_width)
    cut = []
    for panel, text, kind, icons in sorted(set(drawn_texts(panel_classes, context))):
        available = room[kind] - (UNIT * icons if kind == "full" else 0)
        width = text_width(text)
        if width > available:
            cut.append(f"{panel}: {text!r} is {width:.0f} px, room {available:.0f} px ({kind})")
    return cut


def panel_states(settings):
    """Set ``settings`` (scene.depth_views) to each state that shows other rows; yields between them."""
    states = [{}, {"sampling": "grid"}, {"sampling": "random", "target": "COLLECTION", "lens_unit": "FOV"},
              {"formats": {"exr", "png16", "preview", "contact_sheet"}, "preview_range": "fixed",
               "passes": {"depth", "rgb"}, "rgb_engine": "cycles", "last_output": "/tmp/out", "last_views": 24},
              {"camera_model": "orthographic", "ortho_scale_auto": False}, {"camera_model": "fisheye"},
              {"camera_model": "equirectangular"}, {"camera_source": "FILE", "camera_file": "/tmp/transforms.json"}]
    for state in states:
        saved = {key: getattr(settings, key) for key in state}
        for key, value in state.items():
            setattr(settings, key, value)
        yield state
        for key, value in saved.items():
            setattr(settings, key, value)
