"""Importers: bring other trackers' stores into a tracker store (read as files, never as code)."""
