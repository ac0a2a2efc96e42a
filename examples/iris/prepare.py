"""Split scikit-learn's bundled iris data set into train and test CSV files."""
import argparse
import csv

from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split


def write(path, features, labels):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "label"])
        for x, y in zip(features, labels):
            w.writerow([*(f"{v:.1f}" for v in x), int(y)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--test-size", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    data = load_iris()
    xtr, xte, ytr, yte = train_test_split(
        data.data, data.target, test_size=a.test_size, random_state=a.seed, stratify=data.target)
    write(a.train, xtr, ytr)
    write(a.test, xte, yte)
    print(f"prepared {len(ytr)} training rows and {len(yte)} test rows")


if __name__ == "__main__":
    main()
