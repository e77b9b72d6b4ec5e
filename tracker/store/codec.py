"""The YAML codec: plain values in, plain values out, nothing ever executed.

Values are converted to what YAML's safe dumper can hold (mappings, sequences, str, int, float,
bool, None, bytes, date/datetime); anything else is an :class:`UnsupportedValue` that names the key
and the type *before* a byte is written. Reads use the C safe loader when PyYAML has it.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
import re
from collections.abc import Mapping, Sequence, Set
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import yaml

from tracker.errors import CorruptFile, UnsupportedValue

try:  # the C implementations are ~10x faster; fall back quietly where libyaml is missing
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

MAX_DEPTH = 100
MAX_FILE_BYTES = 64 * 1024 * 1024  # a metadata file larger than this is refused, not parsed
_SCALARS = (str, int, float, bool, bytes, type(None), _dt.date)


def to_plain(value: Any, key: str = "value", _depth: int = 0) -> Any:
    """Convert ``value`` to plain YAML data, or raise :class:`UnsupportedValue`."""
    if isinstance(value, _SCALARS) and not isinstance(value, enum.Enum):
        return _exact(value)
    if _depth >= MAX_DEPTH:
        raise UnsupportedValue(
            f"{key}: nested deeper than {MAX_DEPTH} levels; flatten it or log it as an artifact"
        )
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            pk = to_plain(k, key, _depth + 1)
            if isinstance(pk, dict | list):
                raise UnsupportedValue(f"{key}: a mapping key must be a scalar, got {type(k)}")
            out[pk] = to_plain(v, f"{key}.{k}", _depth + 1)
        return out
    if isinstance(value, list | tuple) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray | memoryview)
    ):  # any sequence (OmegaConf's ListConfig, a user's class) is stored as a plain list
        return [to_plain(v, f"{key}[{i}]", _depth + 1) for i, v in enumerate(value)]
    if isinstance(value, Set):
        items = [to_plain(v, f"{key}[]", _depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, PurePath | os.PathLike):
        return os.fspath(value)
    if isinstance(value, Decimal):
        return float(value)
    converted = _numpy_or_sequence(value, key, _depth)
    if converted is not _MISSING:
        return converted
    raise UnsupportedValue(
        f"{key}: cannot store a value of type {type(value).__module__}.{type(value).__qualname__} "
        "as YAML; convert it to str/number/bool/list/dict (or log it as an artifact)"
    )


_MISSING = object()


def _exact(value: Any) -> Any:
    """Strip subclasses (str enums, numpy.float64 is a float subclass) to the builtin type."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _short_float(value: Any) -> bool:
    dtype = getattr(value, "dtype", None)
    return getattr(dtype, "kind", "") == "f" and getattr(dtype, "itemsize", 8) < 8


def _numpy_or_sequence(value: Any, key: str, depth: int) -> Any:
    module = type(value).__module__.split(".")[0]
    if module == "numpy" and _short_float(value):
        # float32/float16: the shortest text that reads back as the same value (0.91, not
        # 0.9100000262260437, which is what widening it to a Python float gives)
        if getattr(value, "ndim", 0) == 0:
            return float(str(value))
        return [to_plain(v, f"{key}[{i}]", depth + 1) for i, v in enumerate(value)]
    if module == "numpy" and hasattr(value, "tolist"):
        return to_plain(value.tolist(), key, depth + 1)
    if module in ("omegaconf", "pandas") or hasattr(value, "__array__"):
        try:
            from collections.abc import Sequence

            if isinstance(value, Sequence):
                return [to_plain(v, f"{key}[{i}]", depth + 1) for i, v in enumerate(value)]
        except TypeError:
            return _MISSING
    return _MISSING


def dumps(data: Any, key: str = "value") -> bytes:
    """Serialise already-plain data (see :func:`to_plain`) to UTF-8 YAML bytes."""
    try:
        text = yaml.dump(
            data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False
        )
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsupportedValue(
            f"{key}: a string holds a lone surrogate, which is not valid unicode; fix the text"
        ) from None


_PRINTABLE_ASCII = re.compile(r"[ -~]*")


def _fast_scalar(value: Any) -> str | None:
    """The YAML text of a scalar whose form is unambiguous, or None to let PyYAML do it.

    Strings of printable ASCII are written JSON-quoted (a valid YAML double-quoted scalar with the
    same two escapes); floats only in the ``1.5`` form YAML 1.1 reads back as floats.
    """
    kind = type(value)
    if kind is str:
        if not _PRINTABLE_ASCII.fullmatch(value):
            return None
        return json.dumps(value) if '"' in value or "\\" in value else f'"{value}"'

    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        text = repr(value)
        return text if "." in text and "e" not in text and "n" not in text else None
    if kind is _dt.datetime and value.tzinfo is _dt.timezone.utc:
        return str(value.isoformat(sep=" "))
    return None


def dump_record(record: dict[str, Any], key: str = "value") -> bytes:
    """A flat mapping of plain scalars, written without PyYAML's representer (5x faster; a tag
    write is dominated by it); anything else falls back to :func:`dumps`. Same YAML either way."""
    lines = []
    for name, value in record.items():
        text = _fast_scalar(value)
        if text is None:
            return dumps(record, key)
        lines.append(f"{name}: {text}\n")
    return "".join(lines).encode("ascii")


def loads(data: bytes, where: str = "") -> Any:
    """Parse YAML bytes with the safe loader; a bad file is a :class:`CorruptFile` naming it."""
    if len(data) > MAX_FILE_BYTES:
        raise CorruptFile(
            f"{where}: {len(data)} bytes is larger than the {MAX_FILE_BYTES} allowed for a "
            "metadata file; it was not parsed (run `tracker fsck`)"
        )
    try:
        if len(data) > _DEPTH_SCAN_FROM and _too_deep(data, MAX_DEPTH + 10):
            raise CorruptFile(f"{where}: nested more than {MAX_DEPTH + 10} levels deep; refused")
        doc = yaml.load(data, Loader=_SafeLoader)  # the C *safe* loader: no tags run code
    except CorruptFile:
        raise
    except yaml.YAMLError as exc:
        raise CorruptFile(
            f"{where}: not valid YAML for the safe loader ({str(exc).splitlines()[0]}); "
            "run `tracker fsck`"
        ) from None
    except RecursionError:
        raise CorruptFile(f"{where}: nested too deeply to parse safely") from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        # the safe constructor's own failures: a date like 2020-02-30, `!!int x`, `!!bool maybe`
        raise CorruptFile(
            f"{where}: a value the safe loader cannot build ({type(exc).__name__}: {exc}); "
            "run `tracker fsck`"
        ) from None
    if b"&" in data and b"*" in data and _expanded_size(doc, MAX_NODES) > MAX_NODES:
        # we never write anchors; shared aliases can expand a small file into billions of nodes
        raise CorruptFile(f"{where}: YAML aliases expand to more than {MAX_NODES} values; refused")
    return doc


MAX_NODES = 1_000_000
# libyaml's C composer recurses once per nesting level: ~25,000 levels overflow an 8 MB stack (a
# segfault, not an exception), fewer on smaller thread stacks. A file this short cannot nest deep
# enough to matter; a longer one is scanned as a stream of events (no recursion) first.
_DEPTH_SCAN_FROM = 1024
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _too_deep(data: bytes, limit: int) -> bool:
    depth = 0
    for event in yaml.parse(data, Loader=_SafeLoader):
        if isinstance(event, _OPEN):
            depth += 1
            if depth > limit:
                return True
        elif isinstance(event, _CLOSE):
            depth -= 1
    return False


def _expanded_size(doc: Any, budget: int) -> int:
    """How many values ``doc`` has once aliases are expanded, counting no further than budget."""
    seen = 0
    stack = [doc]
    while stack and seen <= budget:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen
