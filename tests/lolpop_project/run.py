"""One lolpop run on the tracker: ``ClassificationRunner.build_all()``, then
``evaluate_ground_truth()`` after the tracker was stopped (which reloads the model through
``load_model``). Run it with the working directory set to a project dir (paths in config.yaml
are relative to it); it prints ``E2E-RESULT <json>`` last.

    python run.py --enable register|plugin|pythonpath [--seed N] [--root URL]
                  [--storage-options JSON]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# Prove nothing falls back to lolpop's default MLflow tracker (it needs mlflow to exist).
sys.modules["mlflow"] = None  # type: ignore[assignment]


def make_data(seed: int, rows: int) -> None:
    """A titanic look-alike; half of test.csv's passengers are in train.csv, so
    ``evaluate_ground_truth`` finds ground truth for them."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = rows
    sex = rng.choice(["male", "female"], n)
    pclass = rng.choice([1, 2, 3], n)
    df = pd.DataFrame(
        {
            "PassengerId": np.arange(1, n + 1),
            "Survived": (rng.random(n) < 0.2 + 0.5 * (sex == "female") + 0.1 * (pclass == 1)),
            "Pclass": pclass,
            "Name": [f"Person {i}" for i in range(n)],
            "Sex": sex,
            "Age": rng.integers(1, 80, n).astype(float),
            "SibSp": rng.integers(0, 3, n),
            "Parch": rng.integers(0, 3, n),
            "Ticket": [f"T{i}" for i in range(n)],
            "Fare": np.round(rng.gamma(2, 15, n), 2),
            "Cabin": ["C1"] * n,
            "Embarked": rng.choice(["S", "C", "Q"], n),
        }
    )
    df["Survived"] = df["Survived"].astype(int)
    os.makedirs("data", exist_ok=True)
    df.to_csv("data/train.csv", index=False)
    known = df.drop(columns=["Survived"]).iloc[:25]
    new = known.copy()
    new["PassengerId"] = np.arange(n + 1, n + 26)
    pd.concat([known, new]).to_csv("data/test.csv", index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enable", choices=["register", "plugin", "pythonpath"], required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--root")
    parser.add_argument("--storage-options")
    args = parser.parse_args(argv)

    import tracker.integrations.lolpop as tl

    if args.enable == "register":
        tl.register()  # before lolpop is imported, as documented

    from omegaconf import OmegaConf

    make_data(args.seed, args.rows)
    conf: Any = OmegaConf.load(HERE / "config.yaml")
    plugins = [str(HERE / "lolpop_stubs.py")]
    if args.enable == "plugin":
        plugins.append(tl.plugin_path())
    conf.config.plugin_paths = plugins
    conf.process.data_transformer.config.transformer_path = str(HERE / "process_titanic.py")
    if args.root:
        conf.metadata_tracker.config.root = args.root
    if args.storage_options:
        conf.metadata_tracker.config.storage_options = json.loads(args.storage_options)

    from lolpop.runner import ClassificationRunner

    runner = ClassificationRunner(conf=conf)
    mt = runner.metadata_tracker
    shared = all(
        getattr(getattr(runner, p), "metadata_tracker", None) is mt
        for p in ("process", "train", "deploy", "predict")
    )
    nested = getattr(mt, "metadata_tracker", mt)
    metrics = runner.metrics_tracker
    runner.build_all()  # ends with runner.stop()
    runner.evaluate_ground_truth()  # after stop(): the tracker opens a new run
    runner.stop()
    result = {
        "class": type(mt).__name__,
        "module": type(mt).__module__,
        "type": mt.type,
        "url": mt.url,
        "shared": shared,
        "nested_default": nested is not mt,
        "mlflow_imported": sys.modules.get("mlflow") is not None,
        "mlruns": os.path.exists("mlruns"),
        "metrics_class": type(metrics).__name__,
        "metrics_module": type(metrics).__module__,
        "metrics_type": metrics.type,
        "metrics_shares_store": getattr(metrics, "tracker", None) is getattr(mt, "tracker", 0),
    }
    print("E2E-RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
