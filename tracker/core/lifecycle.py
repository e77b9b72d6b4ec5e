"""Model-lifecycle lookups and lineage: previous and deployed versions, prediction jobs, winners.

Walks go version by version downwards from the one asked about, reading one small key file per
candidate (a run's end writes ``attrs/run_status`` on every version it created, so a candidate's
run is judged without reading the run), and stop at the first answer: cost follows the distance to
the answer, not the size of the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from tracker.core.context import TrackerContext
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.results import LineageTree
from tracker.core.runs import CRASHED, FAILED
from tracker.errors import InvalidRef

BAD_RUNS = (FAILED, CRASHED)
UP, DOWN = "up", "down"


class LifecycleMixin(TrackerContext):
    """Mixed into :class:`FileMetadataTracker`; uses its store, items, resources and runs."""

    # -- helpers ---------------------------------------------------------------------------------
    def _run_ok(self, res: Resource, memo: dict[str, str | None]) -> bool:
        """False when the run that created ``res`` FAILED or CRASHED."""
        status = self._value(res, "run_status", ("attrs",))
        if status is None:
            full = self._resources.get(res.type, res.id, res.version or 0)
            run_id = full.run_id if full is not None else None
            if run_id and run_id not in memo:
                memo[run_id] = self._runs.status(run_id)
            status = memo.get(run_id or "")
        return status not in BAD_RUNS

    def _earlier(self, res: Resource, inclusive: bool = False) -> Iterator[Resource]:
        """Versions of ``res``'s series from the one before it (or itself) down to 1."""
        rtype = MODEL_VERSION if res.type == MODEL else res.type
        top = (
            res.version
            if res.version is not None
            else self._resources.latest_version(rtype, res.id)
        )
        start = top if inclusive or res.version is None else top - 1
        for version in range(start, 0, -1):
            yield Resource(rtype, res.id, version)

    # -- interface -------------------------------------------------------------------------------
    def get_prev_resource_version(
        self,
        resource: Any,
        *args: Any,
        filters: Mapping[str, Any] | str | None = None,
        num: int = 1,
        **kwargs: Any,
    ) -> Resource | list[Resource] | None:
        """The newest earlier version(s) of the same series whose run did not fail.

        ``filters``: ``{"status": "DEPLOYED"}`` (tags) or a ``where`` expression; ``num > 1``
        returns a list (possibly shorter); ``None`` when there is none.
        """
        res = self._resolve(resource, allow_series=True)
        found: list[Resource] = []
        memo: dict[str, str | None] = {}
        expr = None
        if isinstance(filters, str):
            from tracker.core.expr import parse
            from tracker.core.fields import RESOURCES, check_static

            expr = parse(filters)
            check_static(RESOURCES, expr, (), what="filters")  # a misspelt field is an error
        for cand in self._earlier(res):
            if isinstance(filters, Mapping) and any(
                self._value(cand, str(k), ("tags",)) != v for k, v in filters.items()
            ):
                continue
            if not self._run_ok(cand, memo):
                continue
            if expr is not None and not expr.evaluate(self._record(cand)):
                continue
            live = self._live(cand)  # a deleted version (tombstone) is skipped
            if live is None:
                continue
            found.append(live)
            if len(found) >= num:
                break
        if num > 1:
            return found
        return found[0] if found else None

    def get_currently_deployed_model_version(
        self, model_version: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        """Newest earlier version whose ``status`` (tag or metadata) is DEPLOYED, else PROMOTED,
        else the previous version whose run did not fail, else None."""
        res = self._resolve(model_version, allow_series=True)
        promoted = previous = None
        memo: dict[str, str | None] = {}
        for cand in self._earlier(res):
            status = self._value(cand, "status", ("tags", "metadata"))
            if status == "DEPLOYED" and (live := self._live(cand)) is not None:
                return live
            if status == "PROMOTED" and promoted is None:
                promoted = self._live(cand)
            if previous is None and self._run_ok(cand, memo):
                previous = self._live(cand)
        return promoted or previous

    def get_prediction_job_model_version(
        self, prediction_job: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        """The model version a prediction job was created under (its parent), or None."""
        job = self._resolve(prediction_job)
        if not job.parent:
            return None
        ptype, pid, pver = parse_ref(job.parent)
        return self._live(Resource(ptype, pid, pver))  # None once that version is deleted

    def get_latest_model_resource(
        self, model: Any, type: str, *args: Any, **kwargs: Any
    ) -> Resource | None:
        """Newest resource of ``type`` among the children of the model's versions
        (``type="model_version"``: the newest version); None when there is none."""
        res = self._resolve(model, allow_series=True)
        name = res.id
        if type == MODEL_VERSION:
            return self._latest(MODEL_VERSION, name)
        best: tuple[Any, Resource] | None = None
        for mv in self._earlier(Resource(MODEL, name, None), inclusive=True):
            for child in self._resources.links(mv, "children", type):
                doc = self._resources.doc(child.type, child.id, child.version or 0, fresh=True)
                if doc is None:
                    continue
                stamp = (str(doc.get("created_at")), child.id, child.version)
                if best is None or stamp > best[0]:
                    best = (stamp, child)
        return self._full(best[1]) if best else None

    def get_winning_experiment(
        self, model_version: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        """The experiment named by the version's ``winning_experiment_id`` (tag or metadata)."""
        mv = self._resolve(model_version)
        winner = self._value(mv, "winning_experiment_id", ("tags", "metadata"))
        if winner in (None, ""):
            return None
        winner = str(winner)
        if "/" in winner:
            with contextlib.suppress(InvalidRef):  # not a ref after all: an id holding '/'
                return self._resolve(winner)
        kids = [r for r in self._resources.links(mv, "children", "experiment") if r.id == winner]
        for kid in reversed(kids):
            if (live := self._live(kid)) is not None:
                return live
        return self._latest("experiment", winner)

    def build_model_lineage(
        self,
        model_version: Any,
        dataset_versions: list[Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Link ``model_version`` to the dataset versions it was trained on (both directions);
        an empty list copies the previous version's lineage."""
        mv = self._resolve(model_version)
        datasets = [self._resolve(d) for d in dataset_versions or []]
        if not datasets:
            prev = self.get_prev_resource_version(mv)
            if isinstance(prev, Resource):
                datasets = self._resources.links(prev, "lineage")
        self._run()
        for dv in datasets:
            self._resources.link(mv, "lineage", dv)
            self._resources.link(dv, "used_by", mv)

    def lineage(
        self, resource: Any, direction: str = UP, depth: int | None = None
    ) -> dict[str, Any]:
        """The lineage graph as a tree: ``{"ref", "relation", "links": [...]}``.

        ``up``: what it came from (parent, datasets); ``down``: what came from it (children,
        models trained on it). A node seen before is listed again without its links.
        """
        if direction not in (UP, DOWN):
            raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
        root = self._resolve(resource)
        seen: set[str] = set()

        def walk(res: Resource, relation: str, level: int) -> dict[str, Any]:
            node: dict[str, Any] = {"ref": res.ref, "relation": relation, "links": []}
            if res.ref in seen or (depth is not None and level >= depth):
                return node
            seen.add(res.ref)
            for rel, nxt in self._neighbours(res, direction):
                node["links"].append(walk(nxt, rel, level + 1))
            return node

        return LineageTree(walk(root, "self", 0))

    def _neighbours(self, res: Resource, direction: str) -> list[tuple[str, Resource]]:
        if direction == UP:
            out: list[tuple[str, Resource]] = []
            full = self._resources.get(res.type, res.id, res.version or 0)
            if full is not None and full.parent:
                ptype, pid, pver = parse_ref(full.parent)
                parent = self._live(Resource(ptype, pid, pver))
                if parent is not None:  # a deleted parent is left out of the tree
                    out.append(("parent", parent))
            out += [("trained_on", r) for r in self._resources.links(res, "lineage")]
            return out
        return [("child", r) for r in self._resources.links(res, "children")] + [
            ("used_by", r) for r in self._resources.links(res, "used_by")
        ]
