"""``python -m depth_views``: the command line."""

import sys

from .cli import main

sys.exit(main())
