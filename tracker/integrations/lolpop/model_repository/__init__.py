"""Holds lolpop's model-repository adapter; lolpop reads a component's type from its module
path, so this package must be named ``model_repository``. Importing it does not import lolpop."""
