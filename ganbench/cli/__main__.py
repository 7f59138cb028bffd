"""``python -m ganbench.cli``: the ``ganbench`` command (used under ``torchrun``)."""

import sys

from . import main

sys.exit(main())
