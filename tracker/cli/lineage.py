"""``tracker lineage REF``: what a version came from (``--up``) and what came from it (``--down``).

Both directions by default. ``--json``: ``{ref, up, down}`` where ``ref`` is the resolved
``type/id@version`` and ``up``/``down`` are trees (null when not asked for) of nodes
``{ref, relation, links}``; ``relation`` is ``self`` for the root, ``parent`` or ``trained_on``
going up, ``child`` or ``used_by`` going down; a node already shown elsewhere in the tree is
repeated without its links.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import add_command, emit, open_store, resolve
from tracker.core.lifecycle import DOWN, UP
from tracker.view import text


def register(sub: Any) -> None:
    parser = add_command(sub, "lineage", run_lineage, "draw the lineage of a resource version")
    parser.add_argument("ref", metavar="REF", help="type/id@version, or type/id for the latest")
    way = parser.add_mutually_exclusive_group()
    way.add_argument(
        "--up",
        dest="direction",
        action="store_const",
        const=UP,
        help="only what it came from (parent, training datasets)",
    )
    way.add_argument(
        "--down",
        dest="direction",
        action="store_const",
        const=DOWN,
        help="only what came from it (children, models trained on it)",
    )
    parser.add_argument("--depth", type=_depth, metavar="N", help="at most N links deep")


def _depth(value: str) -> int:
    try:
        depth = int(value)
    except ValueError:
        depth = -1
    if depth < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return depth


def run_lineage(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    ref = resolve(tracker, args.ref).ref
    trees: dict[str, Any] = {UP: None, DOWN: None}
    for direction in (UP, DOWN):
        if args.direction in (None, direction):
            trees[direction] = tracker.lineage(ref, direction, args.depth)
    data = {"ref": ref, "up": trees[UP], "down": trees[DOWN]}

    def drawing() -> str:
        parts = []
        if trees[UP] is not None:
            parts.append(f"upstream: what {ref} came from\n{_draw(trees[UP])}")
        if trees[DOWN] is not None:
            parts.append(f"downstream: what came from {ref}\n{_draw(trees[DOWN])}")
        return "\n\n".join(parts)

    return emit(args, data, drawing)


def _draw(node: dict[str, Any]) -> str:
    return text.tree(node) + ("" if node.get("links") else "\n(nothing)")
