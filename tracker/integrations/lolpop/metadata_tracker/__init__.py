"""Holds the lolpop adapter; lolpop reads a component's type from its module path, so this
package must be named ``metadata_tracker``. Importing it does not import lolpop."""
