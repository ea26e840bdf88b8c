"""View (cameras/views.py): one camera of a set, read-only, as plain JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from depth_views.cameras.sphere import sample_views
from depth_views.cameras.views import View

CENTER = np.array([0.3, -1.2, 0.7])
RADIUS = 2.5


def test_view_to_json_and_read_only():
    view = sample_views(sampling="fibonacci", n_views=3, center=CENTER, radius=RADIUS)[1]
    data = json.loads(json.dumps(view.to_json()))
    assert data["index"] == 1
    assert data["radius"] == RADIUS
    np.testing.assert_allclose(data["position"], view.position)
    np.testing.assert_allclose(data["camera_to_world"], view.camera_to_world)
    np.testing.assert_allclose(data["world_to_camera"], view.world_to_camera)
    with pytest.raises(ValueError):
        view.camera_to_world[0, 0] = 5.0
    assert isinstance(view, View)
