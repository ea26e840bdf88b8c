"""Turn one metric depth EXR into a colour PNG to look at (not for data: the PNG is 8-bit).

    python examples/colorize_depth.py out/suzanne/depth/0000.exr suzanne.png

Near is red, far is blue (turbo colour map); the range is the view's own min/max and is printed in scene units.
Needs Pillow (``pip install pillow``).
"""

import sys

import numpy as np
from PIL import Image

from depth_views import read_depth

# Polynomial fit of the Turbo colour map (A. Mikhailov, Google, Apache-2.0), t in [0, 1].
TURBO = np.array([
    [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
    [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
    [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973]])


def colorize(depth: np.ndarray, background=(255, 255, 255)) -> np.ndarray:
    """RGB uint8 image of ``depth``: turbo colours, near = red end, far = blue, background flat."""
    hit = np.isfinite(depth)
    near, far = depth[hit].min(), depth[hit].max()
    t = np.clip((far - depth) / max(far - near, 1e-12), 0, 1)
    powers = np.stack([t ** k for k in range(6)], axis=-1)
    rgb = np.clip(powers @ TURBO.T, 0, 1)
    image = (rgb * 255 + 0.5).astype(np.uint8)
    image[~hit] = background
    return image


if __name__ == "__main__":
    depth = read_depth(sys.argv[1])
    Image.fromarray(colorize(depth)).save(sys.argv[2])
    hit = np.isfinite(depth)
    print(f"{sys.argv[2]}: depth {depth[hit].min():.4f} .. {depth[hit].max():.4f} scene units, "
          f"{hit.mean():.0%} of pixels on the surface")
