"""Exports of a store to other engines: Parquet tables that DuckDB (or anything else) queries."""
