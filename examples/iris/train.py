"""Train a logistic regression on the prepared iris rows and save it with joblib."""
import argparse

import joblib
from sklearn.linear_model import LogisticRegression

from common import read_csv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--c", type=float, default=1.0)
    a = p.parse_args()
    x, y = read_csv(a.data)
    model = LogisticRegression(C=a.c, max_iter=500, random_state=0).fit(x, y)
    joblib.dump(model, a.out)
    print(f"trained on {len(y)} rows (C={a.c})")


if __name__ == "__main__":
    main()
