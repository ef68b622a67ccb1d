"""``python -m mattebox`` is the ``mattebox`` command."""

import sys

from mattebox.app.cli import main

sys.exit(main())
