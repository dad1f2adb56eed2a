"""``python -m seqexplain`` runs the command line."""

import sys

from .entrypoint import main

sys.exit(main())
