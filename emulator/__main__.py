"""`python -m emulator ...`: the same as `python connector.py emulator ...`."""

import sys

from emulator.cli import main

sys.exit(main(sys.argv[1:]))
