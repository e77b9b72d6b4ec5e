"""Line plots of metric series as inline SVG: no dependency, shows in notebooks, saves as a file.

Chosen over matplotlib by measurement (README, "Plots"): drawing three 1,000-point curves here
takes about a millisecond, while importing matplotlib alone takes most of a second, and the SVG
shows in Jupyter, VS Code and browsers as is. PNG output is the one case that needs matplotlib
(``pip install 'tracker[plot]'``). Labels are escaped exactly once, where they enter the markup.
"""

from __future__ import annotations

import html
import math
import os

from tracker.errors import MissingDependency, UnsupportedValue

Series = list[tuple[str, list[tuple[int, float]]]]
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_MAX_POINTS = 2000  # per curve drawn; longer curves are thinned evenly (the ends are kept)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _thin(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if len(points) <= _MAX_POINTS:
        return points
    stride = len(points) / _MAX_POINTS
    return [points[int(i * stride)] for i in range(_MAX_POINTS)] + [points[-1]]


class Figure:
    """Curves of one metric key, one per version; ``_repr_svg_`` for notebooks, :meth:`save`."""

    def __init__(
        self,
        series: Series,
        key: str,
        title: str | None = None,
        width: int = 640,
        height: int = 360,
        log_y: bool = False,
    ) -> None:
        self.series, self.key = series, key
        self.title = title if title is not None else key
        self.width, self.height, self.log_y = int(width), int(height), bool(log_y)

    def _finite(self) -> list[tuple[str, list[tuple[float, float]]]]:
        """Drawable points only: nan/inf (and non-positive values on a log axis) are skipped."""
        out = []
        for label, points in self.series:
            keep = []
            for step, value in _thin(points):
                y = float(value)
                if self.log_y:
                    y = math.log10(y) if y > 0 else math.nan
                if math.isfinite(y):
                    keep.append((float(step), y))
            out.append((label, keep))
        return out

    def svg(self) -> str:
        """The whole figure as one ``<svg>`` element."""
        w, h, left, right, top, bottom = self.width, self.height, 60, 160, 30, 40
        curves = self._finite()
        xs = [x for _, pts in curves for x, _ in pts] or [0.0, 1.0]
        ys = [y for _, pts in curves for _, y in pts] or [0.0, 1.0]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if x1 == x0:
            x0, x1 = x0 - 1, x1 + 1
        if y1 == y0:
            y0, y1 = y0 - 1, y1 + 1
        pw, ph = w - left - right, h - top - bottom

        def sx(x: float) -> float:
            return left + (x - x0) / (x1 - x0) * pw

        def sy(y: float) -> float:
            return top + ph - (y - y0) / (y1 - y0) * ph

        esc = html.escape
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">',
            f'<rect width="{w}" height="{h}" fill="white"/>',
            f'<text x="{left + pw / 2}" y="18" text-anchor="middle" font-size="13">'
            f"{esc(self.title)}</text>",
            f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
        ]
        for t in _ticks(x0, x1):
            parts.append(
                f'<text x="{sx(t):.1f}" y="{top + ph + 15}" text-anchor="middle">{_fmt(t)}</text>'
            )
        for t in _ticks(y0, y1):
            label = _fmt(10**t) if self.log_y else _fmt(t)
            parts.append(
                f'<line x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" '
                f'stroke="#eee"/><text x="{left - 5}" y="{sy(t) + 4:.1f}" '
                f'text-anchor="end">{label}</text>'
            )
        parts.append(f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">step</text>')
        for i, (label, pts) in enumerate(curves):
            color = _COLORS[i % len(_COLORS)]
            if pts:
                coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>'
                )
            ly = top + 12 + i * 16
            parts.append(
                f'<line x1="{left + pw + 10}" x2="{left + pw + 30}" y1="{ly - 4}" y2="{ly - 4}" '
                f'stroke="{color}" stroke-width="2"/><text x="{left + pw + 35}" y="{ly}">'
                f"{esc(label)}</text>"
            )
        parts.append("</svg>")
        return "".join(parts)

    def _repr_svg_(self) -> str:
        return self.svg()

    def html(self) -> str:
        return f"<!doctype html><meta charset='utf-8'><title>{html.escape(self.title)}</title>" + (
            self.svg()
        )

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write ``.svg``, ``.html`` or ``.png`` (matplotlib) by the file's suffix."""
        target = os.fspath(path)
        suffix = os.path.splitext(target)[1].lower()
        if suffix == ".svg":
            data = self.svg()
        elif suffix in (".html", ".htm"):
            data = self.html()
        elif suffix == ".png":
            self._png(target)
            return target
        else:
            raise UnsupportedValue(f"plot output {target!r}: use a .svg, .html or .png file name")
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(data)
        return target

    def _png(self, target: str) -> None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise MissingDependency(
                "PNG output needs matplotlib: pip install 'tracker[plot]' (or write .svg/.html)"
            ) from None
        fig, ax = plt.subplots(figsize=(self.width / 100, self.height / 100), dpi=100)
        for label, points in self.series:
            ax.plot([s for s, _ in points], [float(v) for _, v in points], label=label)
        ax.set_title(self.title)
        ax.set_xlabel("step")
        if self.log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        fig.savefig(target)
        plt.close(fig)
