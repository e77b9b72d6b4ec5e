"""The tracker layer: runs, resources, items, artifacts, lineage and queries over a store."""
