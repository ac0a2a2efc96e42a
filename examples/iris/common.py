"""Helpers shared by the iris example scripts."""
import csv

import numpy as np


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[k]) for k in ("sepal_length", "sepal_width", "petal_length", "petal_width")]
                  for r in rows], dtype=np.float32)
    y = np.array([int(r["label"]) for r in rows], dtype=np.int64)
    return x, y
