"""``python -m sgguard_cli`` = ``sgguard``."""

import sys

from sgguard_cli.main import main

sys.exit(main())
