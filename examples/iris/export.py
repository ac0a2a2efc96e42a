"""Convert the trained model to ONNX with skl2onnx and check it against scikit-learn."""
import argparse

import joblib
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx

from common import read_csv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    model = joblib.load(a.model)
    x, _ = read_csv(a.data)
    onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset=17)
    with open(a.out, "wb") as f:
        f.write(onx.SerializeToString())
    session = ort.InferenceSession(a.out, providers=["CPUExecutionProvider"])
    labels = session.run(None, {session.get_inputs()[0].name: x})[0]
    if not np.array_equal(labels, model.predict(x)):
        raise SystemExit("the ONNX model disagrees with scikit-learn")
    print(f"exported {a.out}: {len(onx.graph.node)} nodes, agrees with scikit-learn on {len(x)} rows")


if __name__ == "__main__":
    main()
