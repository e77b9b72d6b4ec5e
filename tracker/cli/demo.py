"""``tracker demo``: record a small, realistic ML workflow in a store, through the public API.

Three runs, as three separate scripts would make them: preparing data (two dataset versions with
a profile and a comparison), training model v1 (three experiments, a winner, lineage, a model
file, DEPLOYED, a prediction job) and training v2 on the cleaned data (it replaces v1, which is
RETIRED). Each experiment logs training curves (loss and accuracy per epoch) as metric
series. Data and metrics are computed from a synthetic Titanic-like table, so they are
consistent with each other. Running it again adds new versions. ``--json`` writes ``{root, runs:
[{run_id, name, created}], deployed, commands}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shlex
import tempfile
from collections.abc import Sequence
from typing import Any

from tracker.cli.common import add_command, emit, root_of
from tracker.core.resource import Resource
from tracker.core.tracker import Tracker

NAME = "titanic"
COLUMNS = ["passenger_id", "pclass", "sex", "age", "fare", "embarked", "survived"]
FEATURES = ["pclass", "female", "age", "fare"]
# (experiment suffix, algorithm, hyperparameters, weight shrinkage standing in for regularisation)
EXPERIMENTS = [
    ("logreg", "logistic_regression", {"C": 1.0, "penalty": "l2"}, 1.0),
    ("logreg-strong-l2", "logistic_regression", {"C": 0.05, "penalty": "l2"}, 0.45),
    ("stumps", "boosted_stumps", {"n_estimators": 50, "learning_rate": 0.1}, 0.7),
]
TRUE_WEIGHTS = {"intercept": 2.1, "pclass": -0.95, "female": 2.6, "age": -0.035, "fare": 0.004}
BASE_WEIGHTS = {"intercept": 1.6, "pclass": -0.8, "female": 2.2, "age": -0.02, "fare": 0.006}

Row = dict[str, Any]


def register(sub: Any) -> None:
    add_command(
        sub,
        "demo",
        run_demo,
        "record an example workflow (3 runs) in the store",
        description="Record an example ML workflow (data preparation, two trainings, prediction "
        "jobs) as three runs, then print commands to look at it. Adds new versions when run "
        "again on the same store.",
    )


# -- synthetic data ------------------------------------------------------------------------------
def passengers(rng: random.Random, n: int) -> list[Row]:
    rows = []
    for pid in range(1, n + 1):
        pclass = rng.choices([1, 2, 3], [0.24, 0.21, 0.55])[0]
        sex = "female" if rng.random() < 0.35 else "male"
        age: float | None = min(80.0, max(0.5, round(rng.gauss(29.7, 14.5))))
        if rng.random() < 0.2:
            age = None
        fare = round(rng.expovariate(1 / {1: 84.0, 2: 20.7, 3: 13.7}[pclass]), 2)
        if rng.random() < 0.02:
            fare = 0.0  # crew and complimentary tickets: not comparable to paying passengers
        row = {
            "passenger_id": pid,
            "pclass": pclass,
            "sex": sex,
            "age": age,
            "fare": fare,
            "embarked": rng.choices("SCQ", [0.72, 0.19, 0.09])[0],
        }
        row["survived"] = int(logit(TRUE_WEIGHTS, row) + rng.gauss(0, 1.3) > 0)
        rows.append(row)
    return rows


def clean(rows: list[Row]) -> list[Row]:
    """Impute missing ages with the median and drop fares of 0 (free crew tickets)."""
    ages = sorted(r["age"] for r in rows if r["age"] is not None)
    median = ages[len(ages) // 2] if ages else 30.0
    return [{**r, "age": median if r["age"] is None else r["age"]} for r in rows if r["fare"] > 0]


def write_csv(rows: list[Row], path: str, columns: Sequence[str] = COLUMNS) -> str:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows({c: ("" if r.get(c) is None else r.get(c)) for c in columns} for r in rows)
    return path


def write_json(data: Any, path: str) -> str:
    with open(path, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    return path


def profile(rows: list[Row]) -> dict[str, Any]:
    """Per column: missing count, and min/mean/max (numbers) or value counts (categories)."""
    out: dict[str, Any] = {"rows": len(rows), "columns": {}}
    for col in COLUMNS:
        present = [r[col] for r in rows if r[col] is not None]
        info: dict[str, Any] = {"missing": len(rows) - len(present)}
        if present and all(isinstance(v, int | float) for v in present):
            info.update(
                min=min(present), max=max(present), mean=round(sum(present) / len(present), 3)
            )
        else:
            info["counts"] = {str(v): present.count(v) for v in sorted(set(present), key=str)}
        out["columns"][col] = info
    return out


# -- a "model": logistic scoring with fixed weights ----------------------------------------------
def logit(weights: dict[str, float], row: Row) -> float:
    age = 29.7 if row["age"] is None else row["age"]
    x = {"pclass": row["pclass"], "female": row["sex"] == "female", "age": age, "fare": row["fare"]}
    return weights["intercept"] + sum(weights[f] * float(x[f]) for f in FEATURES)


def score(weights: dict[str, float], row: Row) -> float:
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, logit(weights, row)))))


def evaluate(weights: dict[str, float], rows: list[Row]) -> dict[str, float]:
    tp = fp = fn = correct = 0
    for row in rows:
        pred, truth = score(weights, row) >= 0.5, bool(row["survived"])
        correct += pred == truth
        tp += pred and truth
        fp += pred and not truth
        fn += truth and not pred
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": round(correct / max(len(rows), 1), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


EPOCHS = 25


def log_loss(weights: dict[str, float], rows: list[Row]) -> float:
    total = 0.0
    for row in rows:
        p = min(max(score(weights, row), 1e-9), 1 - 1e-9)
        total -= math.log(p if row["survived"] else 1 - p)
    return total / max(len(rows), 1)


def log_training_curve(
    t: Tracker, exp: Resource, weights: dict[str, float], train: list[Row], valid: list[Row]
) -> None:
    """Metric series: train/valid loss and valid accuracy per epoch as the weights approach
    their final values (what a real training loop would log with ``log_metrics``)."""
    for epoch in range(EPOCHS):
        share = 1 - 0.85 ** (epoch + 1)
        w = {k: v * share for k, v in weights.items()}
        t.log_metrics(
            exp,
            {
                "train_loss": log_loss(w, train),
                "val_loss": log_loss(w, valid),
                "val_accuracy": evaluate(w, valid)["accuracy"],
            },
            step=epoch,
        )


# -- the three runs ------------------------------------------------------------------------------
def prepare_data(
    root: str, work: str, rng: random.Random
) -> tuple[dict[str, Any], Resource, Resource]:
    """The data run: raw and cleaned versions, each with the data, a profile and metadata."""
    t = Tracker(root, run_name="demo: prepare data")
    raw = passengers(rng, 891)
    dv1 = t.create_resource(NAME, type="dataset_version", source="demo://titanic/train.csv")
    t.log_tags(dv1, {"stage": "raw", "owner": "data-team"})
    t.log_metadata(dv1, "rows", len(raw))
    t.log_metadata(dv1, "columns", COLUMNS)
    t.log_artifact(dv1, "data", write_csv(raw, os.path.join(work, "train_raw.csv")))
    t.log_data_profile(dv1, write_json(profile(raw), os.path.join(work, "profile_raw.json")))

    cleaned = clean(raw)
    dv2 = t.create_resource(
        NAME, type="dataset_version", source=dv1.ref, transform="impute_age+drop_free_fares"
    )
    t.log_tags(dv2, {"stage": "clean", "owner": "data-team"})
    t.log_metadata(dv2, "rows", len(cleaned))
    t.log_metadata(dv2, "columns", COLUMNS)
    t.log_artifact(dv2, "data", write_csv(cleaned, os.path.join(work, "train_clean.csv")))
    t.log_data_profile(dv2, write_json(profile(cleaned), os.path.join(work, "profile.json")))
    comparison = {
        "from": dv1.ref,
        "to": dv2.ref,
        "rows_dropped": len(raw) - len(cleaned),
        "ages_imputed": sum(r["age"] is None for r in raw),
    }
    t.log_data_comparison(dv2, write_json(comparison, os.path.join(work, "comparison.json")))
    run_id = t.run_id
    t.stop()
    summary = {"run_id": run_id, "name": "demo: prepare data", "created": [dv1.ref, dv2.ref]}
    return summary, dv1, dv2


def train(
    root: str, work: str, rng: random.Random, dataset: Resource, label: str
) -> tuple[dict[str, Any], Resource]:
    """One training run: experiments, the winner, a model file, lineage, deployment, a job."""
    t = Tracker(root, run_name=f"demo: train {label}")
    with open(t.get_artifact(dataset, "data"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    data = [
        {
            "pclass": int(r["pclass"]),
            "sex": r["sex"],
            "age": float(r["age"]) if r["age"] else None,
            "fare": float(r["fare"]),
            "survived": int(r["survived"]),
        }
        for r in rows
    ]
    holdout = data[: len(data) // 4]
    mv = t.create_resource(NAME, type="model_version", framework="demo-logistic")
    created = [mv.ref]
    results = []
    for suffix, algorithm, params, shrink in EXPERIMENTS:
        weights = {k: round(v * shrink * rng.uniform(0.9, 1.1), 4) for k, v in BASE_WEIGHTS.items()}
        exp = t.create_resource(
            f"{NAME}-{suffix}", type="experiment", parent=mv, algorithm=algorithm
        )
        metrics = evaluate(weights, holdout)
        log_training_curve(t, exp, weights, data[len(holdout) :], holdout)
        t.log_metadata(exp, "params", params)
        for key, value in metrics.items():
            t.log_metadata(exp, key, value)
        t.clean_resource(exp)
        results.append((metrics["f1"], exp, algorithm, params, weights, metrics))
        created.append(exp.ref)
    _, winner, algorithm, params, weights, metrics = max(results, key=lambda r: r[0])
    model = {"algorithm": algorithm, "params": params, "features": FEATURES, "weights": weights}
    t.log_artifact(mv, "model", write_json(model, os.path.join(work, f"model-{label}.json")))
    t.log_metadata(mv, "winning_experiment_id", winner.id)
    for key, value in metrics.items():
        t.log_metadata(mv, key, value)
    t.build_model_lineage(mv, [dataset])
    previous = t.get_currently_deployed_model_version(mv)
    if previous is not None:
        t.log_metadata(mv, "replaces", previous.ref)
        if t.get_tag(previous, "status") == "DEPLOYED":
            t.log_tag(previous, "status", "RETIRED")
    t.log_tag(mv, "status", "DEPLOYED")

    batch = passengers(rng, 418)
    job = t.create_resource(None, type="prediction_job", parent=mv, rows=len(batch))
    predictions = [
        {"passenger_id": r["passenger_id"], "probability": round(score(weights, r), 4)}
        for r in batch
    ]
    for p in predictions:
        p["survived"] = int(p["probability"] >= 0.5)
    out = write_csv(
        predictions,
        os.path.join(work, f"predictions-{label}.csv"),
        ["passenger_id", "survived", "probability"],
    )
    t.log_artifact(job, "predictions", out)
    t.log_metadata(
        job, "positive_rate", round(sum(p["survived"] for p in predictions) / len(predictions), 4)
    )
    created.append(job.ref)
    run_id = t.run_id
    t.stop()
    return {"run_id": run_id, "name": f"demo: train {label}", "created": created}, mv


def record_demo(root: str) -> dict[str, Any]:
    """Record the workflow in ``root``; returns what was created (see the module docstring)."""
    rng = random.Random(42)  # demo data, not security
    with tempfile.TemporaryDirectory(prefix="tracker-demo-") as work:
        prep, dv1, dv2 = prepare_data(root, work, rng)
        first, _ = train(root, work, rng, dv1, "v1")  # v1 trains on the raw data
        second, mv2 = train(root, work, rng, dv2, "v2")  # v2 on the cleaned data, replacing v1
    url = Tracker(root, git=False).url
    base = f"tracker --root {shlex.quote(url)}"
    # the figure goes next to a local store (not into the working directory)
    plot_out = (
        "val_loss.svg" if "://" in url else os.path.join(os.path.dirname(url), "val_loss.svg")
    )
    commands = [
        f"{base} runs",
        f"{base} ls",
        f"{base} show model_version/{NAME}",
        f"{base} lineage {mv2.ref}",
        f"{base} diff {first['created'][0]} {mv2.ref}",
        f"{base} find --where \"tags.status = 'DEPLOYED'\"",
        f"{base} artifacts {mv2.ref}",
        f"{base} metrics experiment/{NAME}-logreg",
        f"{base} plot experiment/{NAME}-logreg experiment/{NAME}-stumps --key val_loss "
        f"--out {shlex.quote(plot_out)}",
    ]
    return {"root": url, "runs": [prep, first, second], "deployed": mv2.ref, "commands": commands}


def run_demo(args: argparse.Namespace) -> int:
    info = record_demo(root_of(args))

    def account() -> str:
        lines = [f"Recorded a demo workflow in {info['root']} ({len(info['runs'])} runs):", ""]
        for run in info["runs"]:
            lines.append(f"  run {run['run_id']}  {run['name']}")
            lines += [f"      {ref}" for ref in run["created"]]
        lines += ["", f"Deployed now: {info['deployed']}", "", "Look at it:"]
        lines += [f"  {c}" for c in info["commands"]]
        return "\n".join(lines)

    return emit(args, info, account)
