"""``python -m inpaintkit ...``: the CLI without an installed entry point.

Useful where the package cannot be pip-installed, e.g. the offline GPU machine:
``PYTHONPATH=src python3 -m inpaintkit train deepfill ...``.
"""

import sys

from inpaintkit.cli import main

sys.exit(main())
