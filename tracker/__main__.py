"""``python -m tracker ...`` runs the command line, like the ``tracker`` console script."""

from tracker.cli.main import main

raise SystemExit(main())
