"""``python -m amigrate``."""

import sys

from amigrate.cli import main

sys.exit(main())
