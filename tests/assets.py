"""Real textured assets from packages, for the RGB-D tests and benchmarks (never committed).

* Debian ``sweethome3d-furniture`` (CC0 part: ``BlendSwap-CC-0.sh3f``, a zip of OBJ + MTL + textures),
* Debian ``assimp-testmodels`` (``/usr/share/assimp/models``: FBX with lights, glTF),
* the Khronos/Draco sample models inside the ``dracopy`` sdist from PyPI (``.ci/run`` downloads it into
  ``.assets/``; or point ``DEPTH_VIEWS_DRACOPY_SDIST`` at the .tar.gz).

Each getter returns a path or calls ``pytest.skip`` with the reason (which package to install).
"""

from __future__ import annotations

import os
import tarfile
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEETHOME_CC0 = "/usr/share/sweethome3d/furniture/BlendSwap-CC-0.sh3f"
ASSIMP_MODELS = "/usr/share/assimp/models"
DRACOPY_SDIST_NAME = "dracopy-2.2.0.tar.gz"
DRACOPY_TESTDATA = "dracopy-2.2.0/draco/testdata/"


def sweethome_furniture(name: str, folder) -> str:
    """Extract CC0 furniture ``name`` (e.g. ``oakChair``) into ``folder``; the path of its OBJ."""
    if not os.path.isfile(SWEETHOME_CC0):
        pytest.skip(f"{SWEETHOME_CC0} missing: apt-get install sweethome3d-furniture")
    prefix = f"blendswap-cc-0/{name}/"
    with zipfile.ZipFile(SWEETHOME_CC0) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefix) and not m.endswith("/")]
        if not members:
            pytest.skip(f"{SWEETHOME_CC0} has no {name}")
        archive.extractall(folder, members)
    return os.path.join(str(folder), prefix, f"{name}.obj")


def assimp_model(relative: str) -> str:
    """``/usr/share/assimp/models/<relative>``."""
    path = os.path.join(ASSIMP_MODELS, relative)
    if not os.path.isfile(path):
        pytest.skip(f"{path} missing: apt-get install assimp-testmodels")
    return path


def dracopy_sdist() -> str | None:
    """The dracopy sdist (.tar.gz) holding the Khronos sample models, or None."""
    for path in (os.environ.get("DEPTH_VIEWS_DRACOPY_SDIST", ""), os.path.join(ROOT, ".assets", DRACOPY_SDIST_NAME)):
        if path and os.path.isfile(path):
            return path
    return None


def khronos_models(folder, relatives: list[str]) -> dict[str, str]:
    """Extract the sample-model folders holding ``relatives`` (paths under draco/testdata) into
    ``folder``; ``{relative: extracted path}``."""
    sdist = dracopy_sdist()
    if sdist is None:
        pytest.skip("the dracopy sdist is missing: pip download --no-binary dracopy --no-deps "
                    "dracopy==2.2.0 -d .assets (or set DEPTH_VIEWS_DRACOPY_SDIST)")
    wanted = {DRACOPY_TESTDATA + os.path.dirname(r) + "/" for r in relatives}
    with tarfile.open(sdist, "r:gz") as archive:
        members = [m for m in archive if m.isfile() and any(m.name.startswith(w) for w in wanted)]
        archive.extractall(folder, members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return {r: os.path.join(str(folder), DRACOPY_TESTDATA, r) for r in relatives}
