"""Adapters that plug the tracker into other frameworks.

Each integration lives in its own subpackage and imports its framework lazily, so ``import
tracker`` never needs any of them installed.
"""
