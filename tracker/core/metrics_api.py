"""The tracker's metric methods: thin calls into :class:`tracker.core.metrics.Metrics`.

Kept apart from the rest of the facade so the metric feature is one service plus these methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tracker.core.metrics import Metrics, VKey
from tracker.core.resolve import Resolver
from tracker.core.resource import Resource
from tracker.errors import MissingDependency, UnsupportedValue
from tracker.store import paths
from tracker.store.chunks import MetricPoint

TABLE_COLUMNS = ("ref", "run_id", "key", "step", "timestamp", "value")


class MetricTable(list[dict[str, Any]]):
    """A long table, one dict per point: ``ref, run_id, key, step, timestamp, value``."""

    columns = TABLE_COLUMNS

    def to_pandas(self) -> Any:
        """A DataFrame with exactly :attr:`columns` (timestamp as seconds since the epoch)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependency(
                "to_pandas() needs pandas: pip install 'tracker[pandas]' (or pip install pandas)"
            ) from None
        return pd.DataFrame(list(self), columns=list(TABLE_COLUMNS))

    kind = "points"

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self)

    def _repr_html_(self) -> str:
        from tracker.view.html import results_html

        return results_html(self)


class MetricsAPI:
    """The metric methods of the tracker: resolve the version, then call :class:`Metrics`."""

    def __init__(self, resolver: Resolver, metrics: Metrics) -> None:
        self.resolver, self.metrics = resolver, metrics
        self._refs: dict[str, VKey] = {}  # exact refs resolved once per process (bounded)

    def _vkey(self, resource: Any) -> tuple[Resource, VKey]:
        res = self.resolver.resolve(resource)
        return res, (res.type, res.id, res.version)

    def _log_vkey(self, resource: Any) -> VKey:
        """The version a point goes to. A ref naming an exact version is resolved once per
        process (a point must not cost a read, least of all on S3); ``type/id`` (the latest)
        and resources resolve as usual."""
        if isinstance(resource, str) and "@" in resource:
            memo = self._refs
            vkey = memo.get(resource)
            if vkey is None:
                vkey = self._vkey(resource)[1]
                if len(memo) >= 4096:
                    memo.clear()
                memo[resource] = vkey
            return vkey
        return self._vkey(resource)[1]

    def log_metric(
        self, resource: Any, key: str, value: Any, step: int | None = None, timestamp: Any = None
    ) -> None:
        """Add a point to series ``key`` (``step=None``: one more than this process's last step
        of that key, from 0); ``timestamp``: seconds since the epoch or a datetime (default now).
        Buffered: written as a chunk after 1,000 points or 5 s, on ``flush()``, close and exit."""
        self.metrics.log(self._log_vkey(resource), _key(key), value, step, timestamp)

    def log_metrics(
        self, resource: Any, metrics: Mapping[str, Any], step: int | None = None
    ) -> None:
        """Several keys at one ``step``; every value is checked before the first is buffered."""
        from tracker.core.metrics import metric_value

        if not isinstance(metrics, Mapping):
            raise UnsupportedValue(
                f"log_metrics takes a mapping {{key: value}}, got {metrics!r:.60}"
            )
        for k, v in metrics.items():
            metric_value(_key(k), v)
        vkey = self._log_vkey(resource)
        for k, v in metrics.items():
            self.metrics.log(vkey, k, v, step)

    def get_metric_history(self, resource: Any, key: str) -> list[MetricPoint]:
        """Every point of ``key`` (flushed by anyone, plus this process's buffer), ordered by
        (step, timestamp, writer); ``[]`` for a key never logged."""
        return self.metrics.history(self._vkey(resource)[1], _key(key))

    def get_metrics(self, resource: Any) -> dict[str, int | float]:
        """The last value of every key (by step, then timestamp)."""
        return {k: v["value"] for k, v in self.metrics.last_values(self._vkey(resource)[1]).items()}

    def metric_summary(self, resource: Any) -> dict[str, dict[str, Any]]:
        """``{key: {value, step, timestamp, count}}`` of the last point of every key."""
        return self.metrics.last_values(self._vkey(resource)[1])

    def metric_history(
        self, refs_or_results: Any, keys: Iterable[str] | str | None = None
    ) -> MetricTable:
        """One long table (``ref, run_id, key, step, timestamp, value``) over versions: a ref, a
        resource, a list of them, or what ``find()`` returned. ``run_id`` is the run that
        created the version."""
        wanted = [keys] if isinstance(keys, str) else (None if keys is None else list(keys))
        table = MetricTable()
        for item in _as_list(refs_or_results):
            res, vkey = self._vkey(item)
            run_id = self.resolver.full(res).run_id
            for key, rows in self.metrics.histories(vkey, wanted).items():
                table.extend(
                    {
                        "ref": res.ref,
                        "run_id": run_id,
                        "key": key,
                        "step": s,
                        "timestamp": t,
                        "value": v,
                    }
                    for s, t, v in rows
                )
        return table

    def flush(self) -> None:
        """Write every buffered metric point now (one chunk per key with points)."""
        self.metrics.flush()

    def plot(self, refs_or_results: Any, key: str, **options: Any) -> Any:
        """Curves of ``key`` across versions as an inline SVG figure (shows in notebooks;
        ``.save("x.svg"|"x.html"|"x.png")``; PNG needs matplotlib). Options: ``title``,
        ``width``, ``height``, ``log_y``."""
        from tracker.view.plot import Figure

        series = []
        for item in _as_list(refs_or_results):
            res, vkey = self._vkey(item)
            rows = self.metrics.history(vkey, _key(key))
            series.append((res.ref, [(p.step, p.value) for p in rows]))
        return Figure(series, key, **options)


def _key(key: Any) -> str:
    """``key`` checked now (a string that can name a directory), so a batch fails whole."""
    if not isinstance(key, str) or not key:
        raise UnsupportedValue(f"a metric key is a non-empty string, got {key!r:.60}")
    paths.encode(key, "metric key")  # InvalidKey when it cannot (e.g. too long)
    return key


def _as_list(refs: Any) -> list[Any]:
    if isinstance(refs, str | Resource):
        return [refs]
    return list(refs)
