import sys

try:  # Ctrl-C while the modules load ends as quietly as one later on
    from autogrocery.cli.main import main
except KeyboardInterrupt:
    sys.exit(130)

sys.exit(main())
