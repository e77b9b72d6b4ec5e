"""Holds lolpop's metrics-tracker adapter; lolpop reads a component's type from its module path,
so this package must be named ``metrics_tracker``. Importing it does not import lolpop."""
