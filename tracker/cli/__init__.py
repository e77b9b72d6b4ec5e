"""The ``tracker`` command line: ``tracker.cli.main:main`` is the console script's entry point."""
