"""Every in-process cache is bounded and keeps what is used (least recently used goes first)."""

from __future__ import annotations

from tracker.core import items as items_module
from tracker.core.items import Items
from tracker.store import open_store, paths


def test_the_key_file_memo_is_bounded_and_least_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(items_module, "_CACHE_SIZE", 3)
    store = open_store(str(tmp_path / "s"))
    writer = Items(store)
    files = [paths.item_file("model", "m", 1, "tags", f"k{i}") for i in range(4)]
    for i, path in enumerate(files[:3]):
        writer.write(path, f"k{i}", i, "run")
    vdir = paths.version_dir("model", "m", 1)
    reads = []
    real_read_many = store.read_many
    monkeypatch.setattr(store, "read_many", lambda ps: reads.extend(ps) or real_read_many(ps))
    assert reads == []
    only_k0 = {k: e for k, e in writer.listing(vdir, ("tags",)).items() if k == "tags/k0.yaml"}
    assert writer.load(vdir, ("tags",), only_k0)["tags"]["k0"]["value"] == 0  # k0 used: newest
    writer.write(files[3], "k3", 3, "run")  # a fourth: the least recently used (k1) goes
    assert len(writer._known) == 3
    loaded = writer.load(vdir, ("tags",))["tags"]
    assert {k: v["value"] for k, v in loaded.items()} == {"k0": 0, "k1": 1, "k2": 2, "k3": 3}
    assert reads == [paths.join(vdir, "tags/k1.yaml")]  # only the evicted one was read again
    assert (tmp_path / "s" / vdir / "tags" / "k1.yaml").read_text().startswith('key: "k1"')
