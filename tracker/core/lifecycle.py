"""Model-lifecycle lookups and lineage: previous and deployed versions, prediction jobs, winners.

Walks go version by version downwards from the one asked about, reading one small key file per
candidate (a run's end writes ``attrs/run_status`` on every version it created, so a candidate's
run is judged without reading the run), and stop at the first answer: cost follows the distance to
the answer, not the size of the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tracker.core.query import Query
from tracker.core.resolve import Resolver
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, Series, named
from tracker.core.resources import Resources
from tracker.core.results import LineageTree
from tracker.core.runs import CRASHED, FAILED, Runs
from tracker.core.session import Session
from tracker.errors import InvalidRef

BAD_RUNS = (FAILED, CRASHED)


def _version_named(ref: str) -> Resource | None:
    """The version a stored ``parent`` ref names; None when the file names a whole series."""
    value = named(ref)
    return value if isinstance(value, Resource) else None


UP, DOWN = "up", "down"


class Lifecycle:
    """Walks over a series; ``query`` turns a version into the record ``filters`` see."""

    def __init__(
        self,
        session: Session,
        resolver: Resolver,
        resources: Resources,
        runs: Runs,
        query: Query,
    ) -> None:
        self.session, self.resolver, self.resources = session, resolver, resources
        self.runs, self.query = runs, query

    # -- helpers ---------------------------------------------------------------------------------
    def run_ok(self, res: Resource, memo: dict[str, str | None]) -> bool:
        """False when the run that created ``res`` FAILED or CRASHED."""
        status = self.resolver.value(res, "run_status", ("attrs",))
        if status is None:
            full = self.resources.get(res.type, res.id, res.version)
            run_id = full.run_id if full is not None else None
            if run_id and run_id not in memo:
                memo[run_id] = self.runs.status(run_id)
            status = memo.get(run_id or "")
        return status not in BAD_RUNS

    def earlier(self, res: Resource | Series, inclusive: bool = False) -> Iterator[Resource]:
        """Versions of ``res``'s series from the one before it (or itself) down to 1; for a
        Series, from its newest version down."""
        rtype = MODEL_VERSION if res.type == MODEL else res.type
        if isinstance(res, Series):
            start = self.resources.latest_version(rtype, res.id)
        else:
            start = res.version if inclusive else res.version - 1
        for version in range(start, 0, -1):
            yield Resource(rtype, res.id, version)

    # -- interface -------------------------------------------------------------------------------
    def previous(
        self,
        resource: Any,
        filters: Mapping[str, Any] | str | None = None,
        num: int = 1,
    ) -> Resource | list[Resource] | None:
        """The newest earlier version(s) of the same series whose run did not fail.

        ``filters``: ``{"status": "DEPLOYED"}`` (tags) or a ``where`` expression; ``num > 1``
        returns a list (possibly shorter); ``None`` when there is none.
        """
        res = self.resolver.version_or_series(resource)
        found: list[Resource] = []
        memo: dict[str, str | None] = {}
        expr = None
        if isinstance(filters, str):
            from tracker.core.expr import parse
            from tracker.core.fields import RESOURCES, check_static

            expr = parse(filters)
            check_static(RESOURCES, expr, (), what="filters")  # a misspelt field is an error
        for cand in self.earlier(res):
            if isinstance(filters, Mapping) and any(
                self.resolver.value(cand, str(k), ("tags",)) != v for k, v in filters.items()
            ):
                continue
            if not self.run_ok(cand, memo):
                continue
            if expr is not None and not expr.evaluate(self.query.record(cand)):
                continue
            live = self.resolver.live(cand)  # a deleted version (tombstone) is skipped
            if live is None:
                continue
            found.append(live)
            if len(found) >= num:
                break
        if num > 1:
            return found
        return found[0] if found else None

    def deployed(self, model_version: Any) -> Resource | None:
        """Newest earlier version whose ``status`` (tag or metadata) is DEPLOYED, else PROMOTED,
        else the previous version whose run did not fail, else None."""
        res = self.resolver.version_or_series(model_version)
        promoted = previous = None
        memo: dict[str, str | None] = {}
        for cand in self.earlier(res):
            status = self.resolver.value(cand, "status", ("tags", "metadata"))
            if status == "DEPLOYED" and (live := self.resolver.live(cand)) is not None:
                return live
            if status == "PROMOTED" and promoted is None:
                promoted = self.resolver.live(cand)
            if previous is None and self.run_ok(cand, memo):
                previous = self.resolver.live(cand)
        return promoted or previous

    def prediction_job_model(self, prediction_job: Any) -> Resource | None:
        """The model version a prediction job was created under (its parent), or None."""
        job = self.resolver.resolve(prediction_job)
        if not job.parent:
            return None
        parent = _version_named(job.parent)
        return self.resolver.live(parent) if parent else None  # None once that version is deleted

    def latest_model_resource(self, model: Any, type: str) -> Resource | None:
        """Newest resource of ``type`` among the children of the model's versions
        (``type="model_version"``: the newest version); None when there is none."""
        res = self.resolver.version_or_series(model)
        name = res.id
        if type == MODEL_VERSION:
            return self.resolver.latest(MODEL_VERSION, name)
        best: tuple[Any, Resource] | None = None
        for mv in self.earlier(Series(MODEL, name)):
            for child in self.resources.links(mv, "children", type):
                doc = self.resources.doc(child.type, child.id, child.version, fresh=True)
                if doc is None:
                    continue
                stamp = (str(doc.get("created_at")), child.id, child.version)
                if best is None or stamp > best[0]:
                    best = (stamp, child)
        return self.resolver.full(best[1]) if best else None

    def winning_experiment(self, model_version: Any) -> Resource | None:
        """The experiment named by the version's ``winning_experiment_id`` (tag or metadata)."""
        mv = self.resolver.resolve(model_version)
        winner = self.resolver.value(mv, "winning_experiment_id", ("tags", "metadata"))
        if winner in (None, ""):
            return None
        winner = str(winner)
        if "/" in winner:
            with contextlib.suppress(InvalidRef):  # not a ref after all: an id holding '/'
                return self.resolver.resolve(winner)
        kids = [r for r in self.resources.links(mv, "children", "experiment") if r.id == winner]
        for kid in reversed(kids):
            if (live := self.resolver.live(kid)) is not None:
                return live
        return self.resolver.latest("experiment", winner)

    def build_lineage(self, model_version: Any, dataset_versions: Sequence[Any]) -> None:
        """Link ``model_version`` to the dataset versions it was trained on (both directions);
        an empty list copies the previous version's lineage."""
        mv = self.resolver.resolve(model_version)
        datasets = [self.resolver.resolve(d) for d in dataset_versions or []]
        if not datasets:
            prev = self.previous(mv)
            if isinstance(prev, Resource):
                datasets = self.resources.links(prev, "lineage")
        self.session.run()
        for dv in datasets:
            self.resources.link(mv, "lineage", dv)
            self.resources.link(dv, "used_by", mv)

    def lineage(
        self, resource: Any, direction: str = UP, depth: int | None = None
    ) -> dict[str, Any]:
        """The lineage graph as a tree: ``{"ref", "relation", "links": [...]}``.

        ``up``: what it came from (parent, datasets); ``down``: what came from it (children,
        models trained on it). A node seen before is listed again without its links.
        """
        if direction not in (UP, DOWN):
            raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
        root = self.resolver.resolve(resource)
        seen: set[str] = set()

        def walk(res: Resource, relation: str, level: int) -> dict[str, Any]:
            node: dict[str, Any] = {"ref": res.ref, "relation": relation, "links": []}
            if res.ref in seen or (depth is not None and level >= depth):
                return node
            seen.add(res.ref)
            for rel, nxt in self.neighbours(res, direction):
                node["links"].append(walk(nxt, rel, level + 1))
            return node

        return LineageTree(walk(root, "self", 0))

    def neighbours(self, res: Resource, direction: str) -> list[tuple[str, Resource]]:
        if direction == UP:
            out: list[tuple[str, Resource]] = []
            full = self.resources.get(res.type, res.id, res.version)
            if full is not None and full.parent:
                named_parent = _version_named(full.parent)
                parent = self.resolver.live(named_parent) if named_parent else None
                if parent is not None:  # a deleted parent is left out of the tree
                    out.append(("parent", parent))
            out += [("trained_on", r) for r in self.resources.links(res, "lineage")]
            return out
        return [("child", r) for r in self.resources.links(res, "children")] + [
            ("used_by", r) for r in self.resources.links(res, "used_by")
        ]
