import sys

from autogrocery.cli import main

sys.exit(main())
