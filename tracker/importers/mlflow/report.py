"""What an import did: counts per kind, problems by path, notes; a summary for people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tracker.importers.mlflow.reader import Problem


@dataclass
class ImportReport:
    mlruns: str
    root: str
    dry_run: bool = False
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    metric_points: int = 0
    artifact_files: int = 0
    artifact_bytes: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.problems

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mlruns": self.mlruns,
            "root": self.root,
            "dry_run": self.dry_run,
            "created": dict(sorted(self.created.items())),
            "updated": dict(sorted(self.updated.items())),
            "unchanged": dict(sorted(self.unchanged.items())),
            "metric_points": self.metric_points,
            "artifact_files": self.artifact_files,
            "artifact_bytes": self.artifact_bytes,
            "skipped": [{"path": p.path, "reason": p.reason} for p in self.problems],
            "notes": list(self.notes),
            "ok": self.ok,
        }

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        lines = [f"{verb} {self.mlruns} into {self.root}"]
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        for kind in kinds:
            lines.append(
                f"  {kind:<24} {self.created[kind]:>6} new  {self.updated[kind]:>6} updated  "
                f"{self.unchanged[kind]:>6} unchanged"
            )
        lines.append(f"  metric points            {self.metric_points:>6} new")
        lines.append(
            f"  artifact files           {self.artifact_files:>6} new ({self.artifact_bytes} bytes)"
        )
        lines.extend(f"note: {n}" for n in self.notes)
        if self.problems:
            lines.append(f"skipped {len(self.problems)} unreadable item(s):")
            lines.extend(f"  {p.path}: {p.reason}" for p in self.problems)
        else:
            lines.append("nothing skipped")
        return "\n".join(lines)
