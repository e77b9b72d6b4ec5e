"""Progress bars for long transfers: tqdm when installed, on a terminal, and over 10 MB."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

THRESHOLD = 10 * 1024 * 1024


@contextmanager
def progress_bar(
    total: int, desc: str, enabled: bool = True
) -> Iterator[Callable[[int], None] | None]:
    """Yields an ``update(nbytes)`` callable, or None when no bar should show."""
    if not enabled or total < THRESHOLD or not _interactive():
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield None
        return
    bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, leave=True)
    try:
        yield bar.update
    finally:
        bar.close()


MANY = 2000  # versions: below this a find is over before a bar would help


@contextmanager
def progress_iter(
    total: int, desc: str, enabled: bool = True, minimum: int | None = None, unit: str = "version"
) -> Iterator[Callable[[], None]]:
    """Yields a ``tick()`` to call once per item; a bar shows for ``minimum`` (default
    ``MANY``) items or more."""
    if not enabled or total < (MANY if minimum is None else minimum) or not _interactive():
        yield _nothing
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _nothing
        return
    bar = tqdm(total=total, desc=desc, unit=unit, leave=False)
    try:
        yield lambda: bar.update(1)
    finally:
        bar.close()


def _nothing() -> None:
    return None


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())
