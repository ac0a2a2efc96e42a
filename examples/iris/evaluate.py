"""Score the model on the held-out rows; fail when accuracy is under the threshold."""
import argparse
import json
import sys

import joblib

from common import read_csv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--min-accuracy", type=float, required=True)
    a = p.parse_args()
    x, y = read_csv(a.data)
    model = joblib.load(a.model)
    accuracy = float((model.predict(x) == y).mean())
    with open(a.metrics, "w") as f:
        json.dump({"accuracy": round(accuracy, 4), "rows": int(len(y))}, f, sort_keys=True)
    print(f"accuracy {accuracy:.4f} (minimum {a.min_accuracy})")
    if accuracy < a.min_accuracy:
        print(f"accuracy {accuracy:.4f} is below min_accuracy {a.min_accuracy}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
