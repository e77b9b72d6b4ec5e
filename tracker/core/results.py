"""What ``find()`` and ``runs()`` return: a list that also shows itself in notebooks and pandas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracker.errors import MissingDependency


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

    def to_pandas(self) -> Any:
        """One row per result, tags and metadata as ``tags.<key>``/``metadata.<key>`` columns."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependency(
                "to_pandas() needs pandas: pip install 'tracker[pandas]' (or pip install pandas)"
            ) from None
        return pd.DataFrame(self.rows)


class LineageTree(dict[str, Any]):
    """What ``lineage()`` returns: the tree as a plain dict that a notebook draws as a tree."""

    def _repr_html_(self) -> str:
        from tracker.view.html import lineage_html

        return lineage_html(self)
