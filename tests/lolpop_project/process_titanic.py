"""lolpop's quickstart transformer (LocalDataTransformer calls ``transform``), with a seeded
split so runs are reproducible."""

from typing import Any

import numpy as np
import pandas as pd


def transform(data: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    for col in ["Sex", "Embarked"]:
        data[col] = data[col].astype(str)
        _, indexer = pd.factorize(data[col])
        data[col] = indexer.get_indexer(data[col])
    rng = np.random.default_rng(0)
    data["SPLIT"] = rng.choice(["TRAIN", "VALID"], p=[0.8, 0.2], size=len(data))
    return data
