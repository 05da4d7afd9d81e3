"""``python -m gridcoherence`` runs the command line (see :mod:`gridcoherence.cli`)."""

import sys

from .cli import main

sys.exit(main())
