"""What ``find()`` and ``runs()`` return: a list that also shows itself in notebooks and pandas."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tracker.errors import MissingDependency


def cell(row: Mapping[str, Any], name: str) -> Any:
    """The value of column ``name`` in a flat row, nested paths included: ``metadata.params.C``
    is the ``C`` of the row's ``metadata.params`` (the field syntax of ``where``); None when
    absent."""
    if name in row:
        return row[name]
    from tracker.core.expr import parse_field
    from tracker.core.exprtree import ABSENT, Field

    try:
        path = parse_field(name).path
    except ValueError:
        return None
    for cut in range(len(path) - 1, 0, -1):
        head = ".".join(path[:cut])
        if head in row:
            value = Field(("", *path[cut:])).resolve({"": row[head]})
            return None if value is ABSENT else value
    return None


def columns_of(rows: Iterable[Mapping[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """``rows`` reduced to the columns ``names`` (nested paths resolved by :func:`cell`)."""
    return [{name: cell(row, name) for name in names} for row in rows]


class Results(list[Any]):
    """A list of resources (``find``) or run dicts (``runs``) with ``_repr_html_``/``to_pandas``.

    ``rows`` holds one flat dict per item (identity, ``tags.*``, ``metadata.*`` columns), computed
    when the query ran, so displaying it later needs no store access (and works after ``stop()``).
    """

    def __init__(self, items: Iterable[Any], rows: list[dict[str, Any]], kind: str) -> None:
        super().__init__(items)
        self.rows = rows
        self.kind = kind

    def _repr_html_(self) -> str:
        from tracker.view.html import results_html

        return results_html(self)

    def to_pandas(self, columns: Sequence[str] | None = None) -> Any:
        """One row per result, tags and metadata as ``tags.<key>``/``metadata.<key>`` columns;
        ``columns`` picks columns by field name, nested ones too (``metadata.params.C``)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependency(
                "to_pandas() needs pandas: pip install 'tracker[pandas]' (or pip install pandas)"
            ) from None
        if columns is not None:
            return pd.DataFrame(columns_of(self.rows, columns), columns=list(columns))
        return pd.DataFrame(self.rows)


class LineageTree(dict[str, Any]):
    """What ``lineage()`` returns: the tree as a plain dict that a notebook draws as a tree."""

    def _repr_html_(self) -> str:
        from tracker.view.html import lineage_html

        return lineage_html(self)
