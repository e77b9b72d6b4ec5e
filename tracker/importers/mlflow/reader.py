"""Read an MLflow ``mlruns`` directory as files, treating it as hostile input.

Nothing here imports MLflow. Every YAML file goes through the store layer's safe reading
(no symbolic links, no FIFOs, 64 MB at most) and the safe loader (no tags that build objects,
alias bombs and absurd nesting refused). Names come only from directory listings, never from
file contents, so no string read from a file is ever joined into a path. A file that cannot be
read is recorded in :attr:`MlrunsReader.problems` with its path and skipped; reading goes on.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from tracker.errors import CorruptFile, StoreError
from tracker.store.codec import loads
from tracker.store.local import LocalStore

TRASH = ".trash"
REGISTRY = "models"
# folders of an experiment that are not runs
EXPERIMENT_FOLDERS = frozenset({"tags", "datasets", "models", "traces"})
STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_ID = re.compile(r"[A-Za-z0-9][\w\-]{0,255}")  # MLflow's own rule for run and experiment ids


@dataclass
class Problem:
    path: str
    reason: str


@dataclass
class MetricPoint:
    timestamp_ms: int
    value: float
    step: int
    dataset: tuple[str, str] | None = None
    run_id: str | None = None  # logged models' metric lines name the run that logged them


@dataclass
class Experiment:
    id: str
    folder: str  # relative to mlruns: "<id>" or ".trash/<id>"
    meta: dict[str, Any]
    tags: dict[str, str]

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.id)


@dataclass
class Run:
    id: str
    folder: str
    experiment: Experiment
    meta: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_files: dict[str, str] = field(default_factory=dict)  # key -> relative path
    inputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.meta.get("run_name") or self.tags.get("mlflow.runName") or "")

    @property
    def status(self) -> str:
        raw = self.meta.get("status", 1)
        return STATUSES.get(raw, str(raw)) if isinstance(raw, int) else str(raw)


class MlrunsReader:
    """Lists and reads the parts of one ``mlruns`` directory; see the module docstring."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(path))
        if not os.path.isdir(self.root) or os.path.islink(self.root):
            raise StoreError(
                f"{self.root}: not a directory; give the path of an MLflow `mlruns` folder"
            )
        self.files = LocalStore(self.root)
        self.problems: list[Problem] = []

    # -- primitives --------------------------------------------------------------------------
    def skip(self, rel: str, reason: str) -> None:
        self.problems.append(Problem(os.path.join(self.root, rel), reason))

    def read_bytes(self, rel: str) -> bytes | None:
        if self.files.is_symlink(rel):
            self.skip(rel, "a symbolic link; refused")
            return None
        try:
            return self.files.read(rel)
        except (CorruptFile, StoreError, OSError) as exc:
            self.skip(rel, str(exc))
            return None

    def read_text(self, rel: str) -> str | None:
        data = self.read_bytes(rel)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.skip(rel, "not UTF-8 text")
            return None

    def read_yaml(self, rel: str) -> dict[str, Any] | None:
        data = self.read_bytes(rel)
        if data is None:
            return None
        try:
            doc = loads(data, os.path.join(self.root, rel))
        except CorruptFile as exc:
            self.skip(rel, str(exc))
            return None
        if not isinstance(doc, dict) or not all(isinstance(k, str) for k in doc):
            self.skip(rel, f"expected a mapping with text keys, found {type(doc).__name__}")
            return None
        return doc

    def entries(self, rel: str) -> list[tuple[str, bool]]:
        """(name, is_dir) of a folder, sorted; links are listed as non-directories."""
        return sorted((e.name, e.is_dir) for e in self.files.list(rel))

    def keyed(self, rel: str) -> dict[str, str]:
        """``{key: relative path}`` of a params/tags/metrics folder; ``/`` in a key is a
        subfolder. Links and special files are reported, never followed."""
        out: dict[str, str] = {}
        stack = [""]
        while stack:
            prefix = stack.pop()
            folder = f"{rel}/{prefix}" if prefix else rel
            for name, is_dir in self.entries(folder):
                key = f"{prefix}/{name}" if prefix else name
                path = f"{rel}/{key}"
                if is_dir:
                    stack.append(key)
                    continue
                try:
                    mode = os.lstat(os.path.join(self.root, path)).st_mode
                except OSError as exc:
                    self.skip(path, str(exc))
                    continue
                if not stat.S_ISREG(mode):
                    self.skip(path, "not a regular file (a symbolic link or special file)")
                    continue
                out[key] = path
        return out

    def values(self, rel: str) -> dict[str, str]:
        """Params or tags: each file's whole text is the value."""
        out = {}
        for key, path in sorted(self.keyed(rel).items()):
            text = self.read_text(path)
            if text is not None:
                out[key] = text
        return out

    # -- experiments and runs ----------------------------------------------------------------
    def experiments(self) -> list[Experiment]:
        found = []
        for base in ("", TRASH):
            for name, is_dir in self.entries(base):
                if not is_dir or (not base and name in (TRASH, REGISTRY)) or name.startswith("."):
                    continue
                folder = f"{base}/{name}" if base else name
                if not self.files.exists(f"{folder}/meta.yaml"):
                    continue
                exp = self._experiment(name, folder)
                if exp is not None:
                    found.append(exp)
        return found

    def _experiment(self, name: str, folder: str) -> Experiment | None:
        meta = self.read_yaml(f"{folder}/meta.yaml")
        if meta is None:
            return None
        if str(meta.get("experiment_id")) != name or not _ID.fullmatch(name):
            self.skip(
                f"{folder}/meta.yaml",
                f"experiment_id {meta.get('experiment_id')!r} does not match its folder {name!r}",
            )
            return None
        tags = self.values(f"{folder}/tags")
        return Experiment(name, folder, meta, tags)

    def run_ids(self, exp: Experiment) -> list[str]:
        return [
            name
            for name, is_dir in self.entries(exp.folder)
            if is_dir and name not in EXPERIMENT_FOLDERS and _ID.fullmatch(name)
        ]

    def run(self, exp: Experiment, run_id: str) -> Run | None:
        folder = f"{exp.folder}/{run_id}"
        meta = self.read_yaml(f"{folder}/meta.yaml")
        if meta is None:
            return None
        stored = meta.get("run_id", meta.get("run_uuid"))  # run_uuid: stores before MLflow 1.0
        if stored != run_id:
            self.skip(f"{folder}/meta.yaml", f"run id {stored!r} does not match its folder")
            return None
        for key in ("start_time", "end_time"):
            if meta.get(key) is not None and not isinstance(meta[key], int):
                self.skip(f"{folder}/meta.yaml", f"{key} {meta[key]!r} is not milliseconds")
                return None
        run = Run(run_id, folder, exp, meta)
        run.params = self.values(f"{folder}/params")
        run.tags = self.values(f"{folder}/tags")
        run.metric_files = self.keyed(f"{folder}/metrics")
        for name, is_dir in self.entries(f"{folder}/inputs"):
            if is_dir:
                doc = self.read_yaml(f"{folder}/inputs/{name}/meta.yaml")
                if doc is not None:
                    run.inputs.append(doc)
        return run

    def metric(self, rel: str, model: bool = False) -> list[MetricPoint]:
        """Every line of a run's metric file, ``ts value [step [dataset_name dataset_digest]]``
        (MLflow 0.x wrote only ``ts value``), or with ``model`` of a logged model's,
        ``ts value step run_id [dataset_name dataset_digest]``; a bad line is reported
        (path:line) and skipped."""
        text = self.read_text(rel)
        points: list[MetricPoint] = []
        sizes = (4, 6) if model else (2, 3, 5)
        for number, line in enumerate((text or "").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            try:
                if len(parts) not in sizes:
                    raise ValueError(
                        f"{len(parts)} fields, expected {' or '.join(map(str, sizes))}"
                    )
                point = MetricPoint(
                    int(parts[0]), float(parts[1]), int(parts[2]) if len(parts) > 2 else 0
                )
                if model:
                    point.run_id = parts[3]
                    del parts[3]
                if len(parts) == 5:
                    point.dataset = (parts[3], parts[4])
            except ValueError as exc:
                self.skip(f"{rel}:{number}", f"malformed metric line {line[:80]!r}: {exc}")
                continue
            points.append(point)
        return points

    def artifact_entries(self, run: Run) -> list[tuple[str, bool]]:
        return self.entries(f"{run.folder}/artifacts")

    def artifact_files(self, rel: str) -> list[tuple[str, str, int]] | None:
        """(absolute path, relative posix path, size) of every file of one artifact, or None
        (reported) when it holds a link or a special file."""
        full = os.path.join(self.root, rel)
        if self.files.is_symlink(rel):
            self.skip(rel, "a symbolic link; refused")
            return None
        if os.path.isfile(full):
            return [(full, os.path.basename(full), os.path.getsize(full))]
        out = []
        for dirpath, dirnames, filenames in os.walk(full):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISDIR(st.st_mode):
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.skip(
                        os.path.relpath(path, self.root),
                        "a symbolic link or special file inside an artifact; artifact refused",
                    )
                    return None
                out.append((path, os.path.relpath(path, full).replace(os.sep, "/"), st.st_size))
        return out

    def datasets(self, exp: Experiment) -> dict[str, dict[str, Any]]:
        out = {}
        for name, is_dir in self.entries(f"{exp.folder}/datasets"):
            if is_dir:
                doc = self.read_yaml(f"{exp.folder}/datasets/{name}/meta.yaml")
                if doc is not None:
                    out[name] = doc
        return out

    def logged_models(self, exp: Experiment) -> dict[str, dict[str, Any]]:
        """MLflow 3 logged models: ``{model_id: {meta, params, tags, metrics, folder}}``."""
        out: dict[str, dict[str, Any]] = {}
        for name, is_dir in self.entries(f"{exp.folder}/models"):
            folder = f"{exp.folder}/models/{name}"
            if not is_dir or not _ID.fullmatch(name):
                continue
            meta = self.read_yaml(f"{folder}/meta.yaml")
            if meta is None:
                continue
            if meta.get("model_id") != name:
                self.skip(f"{folder}/meta.yaml", f"model_id {meta.get('model_id')!r} mismatch")
                continue
            out[name] = {
                "meta": meta,
                "params": self.values(f"{folder}/params"),
                "tags": self.values(f"{folder}/tags"),
                "metrics": self.keyed(f"{folder}/metrics"),
                "folder": folder,
            }
        return out

    def traces(self, exp: Experiment) -> int:
        return sum(1 for _, is_dir in self.entries(f"{exp.folder}/traces") if is_dir)

    # -- the model registry ------------------------------------------------------------------
    def registered_models(self) -> list[dict[str, Any]]:
        """``{name, meta, tags, aliases: {alias: int}, versions: {n: {meta, tags}}}`` each."""
        out = []
        for folder_name, is_dir in self.entries(REGISTRY):
            folder = f"{REGISTRY}/{folder_name}"
            if not is_dir or not self.files.exists(f"{folder}/meta.yaml"):
                continue
            meta = self.read_yaml(f"{folder}/meta.yaml")
            if meta is None:
                continue
            name = meta.get("name")
            if not isinstance(name, str) or not name:
                self.skip(f"{folder}/meta.yaml", f"no model name (found {name!r})")
                continue
            model: dict[str, Any] = {
                "name": name,
                "folder": folder,
                "meta": meta,
                "tags": self.values(f"{folder}/tags"),
                "aliases": {},
                "versions": {},
            }
            for alias, text in self.values(f"{folder}/aliases").items():
                if text.strip().isdigit():
                    model["aliases"][alias] = int(text.strip())
                else:
                    self.skip(f"{folder}/aliases/{alias}", f"not a version number: {text[:40]!r}")
            for entry, sub_is_dir in self.entries(folder):
                number = entry[len("version-") :]
                if not sub_is_dir or not entry.startswith("version-") or not number.isdigit():
                    continue
                vmeta = self.read_yaml(f"{folder}/{entry}/meta.yaml")
                if vmeta is None:
                    continue
                if str(vmeta.get("version")) != number:
                    self.skip(f"{folder}/{entry}/meta.yaml", "version does not match its folder")
                    continue
                model["versions"][int(number)] = {
                    "meta": vmeta,
                    "tags": self.values(f"{folder}/{entry}/tags"),
                }
            out.append(model)
        return out
