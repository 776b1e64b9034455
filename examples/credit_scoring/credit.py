"""The example credit-scoring pipeline: imputation, scaling, one-hot encoding, logistic regression.

``python examples/credit_scoring/train.py OUTDIR`` trains it on synthetic data and writes
``OUTDIR/credit.pkl`` and ``OUTDIR/applicants.csv`` (training-like rows plus awkward ones:
missing values, unseen and oddly spelled categories, extremes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NASTY = "O'Brien\"; DROP TABLE x; --"
"""A housing category that must survive every target as a plain string."""


def neighbours(values: list[float]) -> list[float]:
    """Each value, its float64 neighbours and its float32 neighbours (as doubles)."""
    out: list[float] = []
    for v in values:
        out += [v, float(np.nextafter(v, np.inf)), float(np.nextafter(v, -np.inf))]
        f32 = np.float32(v)
        out += [float(np.nextafter(f32, np.float32(np.inf))), float(np.nextafter(f32, np.float32(-np.inf)))]
    return out


def credit_data(rng: np.random.Generator, n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    """A small credit-scoring table: numbers with missing values, categories incl. a nasty one."""
    income = rng.lognormal(10.5, 0.6, n)
    age = rng.integers(18, 80, n).astype(float)
    debt = rng.gamma(2.0, 3000.0, n)
    housing = rng.choice(["own", "rent", "mortgage", NASTY], n, p=[0.3, 0.35, 0.3, 0.05])
    purpose = rng.choice(["car", "education", "business", "other"], n)
    frame = pd.DataFrame({"income": income, "age": age, "debt": debt, "housing": housing, "purpose": purpose})
    frame.loc[rng.random(n) < 0.08, "income"] = np.nan
    frame.loc[rng.random(n) < 0.05, "housing"] = np.nan
    logit = 0.00003 * income - 0.0002 * debt + 0.02 * (age - 45) + (housing == "own") * 0.8 - 0.5
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "good", "bad")
    return frame.astype({"housing": object, "purpose": object}), y


def credit_adversarial(train: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"income": np.nan, "age": 30.0, "debt": 1000.0, "housing": "own", "purpose": "car"},
        {"income": 50000.0, "age": 45.0, "debt": 0.0, "housing": np.nan, "purpose": "car"},
        {"income": 50000.0, "age": 45.0, "debt": 0.0, "housing": "castle", "purpose": "yacht"},
        {"income": 50000.0, "age": 45.0, "debt": 0.0, "housing": NASTY, "purpose": "other"},
        {"income": 50000.0, "age": 45.0, "debt": 0.0, "housing": "OWN", "purpose": " car"},
        {"income": 1e9, "age": 120.0, "debt": 1e8, "housing": "rent", "purpose": "business"},
        {"income": -0.0, "age": 0.0, "debt": -0.0, "housing": "mortgage", "purpose": "education"},
    ]
    for value in neighbours([float(train["income"].median())]):
        rows.append({"income": value, "age": 45.0, "debt": 5000.0, "housing": "rent", "purpose": "car"})
    return pd.DataFrame(rows).astype({"housing": object, "purpose": object})


def credit_pipeline(classifier: Any) -> Pipeline:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    prep = ColumnTransformer(
        [("num", numeric, ["income", "age", "debt"]), ("cat", categorical, ["housing", "purpose"])]
    )
    return Pipeline([("prep", prep), ("model", classifier)])


def train(seed: int = 20261121) -> tuple[Pipeline, pd.DataFrame]:
    """The fitted example pipeline and the rows to verify it on."""
    frame, y = credit_data(np.random.default_rng(seed))
    model = credit_pipeline(LogisticRegression(max_iter=1000)).fit(frame, y)
    rows = pd.concat([frame.head(200), credit_adversarial(frame)], ignore_index=True)
    return model, rows


__all__ = ["NASTY", "credit_adversarial", "credit_data", "credit_pipeline", "neighbours", "train"]
