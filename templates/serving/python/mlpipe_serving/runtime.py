"""The model runtimes: ONNX through onnxruntime, scikit-learn through joblib.

Each runtime takes numpy arrays that the protocol layer has already checked against the
signature (names, datatypes, shapes) and returns numpy arrays of the signature's
datatypes; nothing here knows about HTTP. Only `load_model` is called from outside.
"""

from __future__ import annotations

import logging
from typing import Optional

import numpy as np

from . import datatypes
from .package import Manifest, PackageError, TensorSpec

log = logging.getLogger("mlpipe_serving")

# How an sklearn output name maps to the estimator's method; other names go by position
# (first output: predict, second: predict_proba).
_METHODS = {
    "predict": "predict", "label": "predict", "labels": "predict", "output_label": "predict",
    "prediction": "predict", "predictions": "predict", "variable": "predict",
    "predict_proba": "predict_proba", "probabilities": "predict_proba", "probability": "predict_proba",
    "output_probability": "predict_proba", "proba": "predict_proba",
    "decision_function": "decision_function", "scores": "decision_function",
    "transform": "transform",
}
_BY_POSITION = ("predict", "predict_proba")


class Model:
    """A loaded model: its signature, and `predict` over checked inputs."""

    platform = ""

    def __init__(self, name: str, inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...]):
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.output_names = tuple(o.name for o in outputs)

    def predict(self, inputs: dict[str, np.ndarray], outputs: tuple[str, ...]) -> list[np.ndarray]:
        """Runs the model; returns one array per name in `outputs`, in that order."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Runs one row of zeros through the model when every input's shape is known, so
        that the first request does not pay for first-run allocations."""
        feeds = {}
        for spec in self.inputs:
            if spec.datatype == "BYTES" or any(d < 0 for d in spec.shape[1:]):
                return
            shape = (1,) + spec.shape[1:] if spec.shape else ()
            feeds[spec.name] = np.zeros(shape, dtype=datatypes.NUMPY[spec.datatype])
        try:
            self.predict(feeds, self.output_names)
        except Exception as error:  # a model may reject zeros; serving still works
            log.warning("warm-up with one row of zeros failed (%s); serving anyway", type(error).__name__)


class OnnxModel(Model):
    """An ONNX graph run by onnxruntime on the CPU."""

    platform = "onnxruntime_onnx"

    def __init__(self, manifest: Manifest, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Worker processes already use every core: idle pool threads must not spin.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(manifest.model_path, options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise PackageError(f"{manifest.model_path}: onnxruntime cannot load it: {error}") from None
        graph_inputs = {i.name: i for i in self.session.get_inputs()}
        graph_outputs = {o.name: o for o in self.session.get_outputs()}
        if manifest.inputs is None:
            inputs = tuple(_from_graph(i, manifest) for i in graph_inputs.values())
            outputs = tuple(_from_graph(o, manifest) for o in graph_outputs.values()
                            if datatypes.from_onnx(o.type) is not None)
        else:
            inputs, outputs = manifest.inputs, manifest.outputs
            _check_against_graph(inputs, graph_inputs, "input", manifest)
            _check_against_graph(outputs, graph_outputs, "output", manifest)
            missing = sorted(set(graph_inputs) - {i.name for i in inputs})
            if missing:
                raise PackageError(f"{manifest.root}: the ONNX graph needs input(s) {', '.join(missing)} "
                                   "that the manifest's signature does not list")
        super().__init__(manifest.name, inputs, outputs)

    def predict(self, inputs: dict[str, np.ndarray], outputs: tuple[str, ...]) -> list[np.ndarray]:
        return self.session.run(list(outputs), inputs)


class SklearnModel(Model):
    """A scikit-learn estimator from a joblib or pickle file (only when its scan said safe)."""

    platform = "sklearn"

    def __init__(self, manifest: Manifest):
        import joblib

        try:
            self.estimator = joblib.load(manifest.model_path)
        except Exception as error:
            raise PackageError(f"{manifest.model_path}: cannot unpickle the model: "
                               f"{type(error).__name__}: {error}") from None
        estimator = self.estimator
        if manifest.inputs is None:
            inputs, outputs = _derived_sklearn_signature(estimator)
        else:
            inputs, outputs = manifest.inputs, manifest.outputs
            if len(inputs) != 1:
                raise PackageError(f"{manifest.root}: a scikit-learn model takes one input X; "
                                   f"the signature lists {len(inputs)}")
        self.methods = {}
        for position, spec in enumerate(outputs):
            method = _METHODS.get(spec.name.lower()) or (_BY_POSITION[position] if position < 2 else None)
            if method is None or not callable(getattr(estimator, method, None)):
                raise PackageError(f"{manifest.root}: output {spec.name!r}: {type(estimator).__name__} has no "
                                   f"method for it (outputs map to predict, predict_proba, decision_function "
                                   "or transform by name, else the first two by position)")
            self.methods[spec.name] = (getattr(estimator, method), datatypes.NUMPY[spec.datatype])
        self.input_name = inputs[0].name
        super().__init__(manifest.name, inputs, outputs)

    def predict(self, inputs: dict[str, np.ndarray], outputs: tuple[str, ...]) -> list[np.ndarray]:
        x = inputs[self.input_name]
        results = []
        for name in outputs:
            method, dtype = self.methods[name]
            value = np.asarray(method(x))
            if dtype == object:
                value = value.astype(str).astype(object)
            elif value.dtype != dtype:
                value = value.astype(dtype)
            results.append(value)
        return results


def load_model(manifest: Manifest, threads: int) -> Model:
    """Loads the package's model (its files already verified) with the runtime of its flavor."""
    if manifest.flavor == "onnx":
        model: Model = OnnxModel(manifest, threads)
    else:
        model = SklearnModel(manifest)
    model.warm_up()
    return model


def _from_graph(value, manifest: Manifest) -> TensorSpec:
    datatype = datatypes.from_onnx(value.type)
    if datatype is None:
        raise PackageError(f"{manifest.model_path}: {value.name} is a {value.type}, not a tensor; "
                           "export the model without maps or sequences (skl2onnx: options={'zipmap': False})")
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in value.shape)
    return TensorSpec(name=value.name, datatype=datatype, shape=shape)


def _check_against_graph(specs: tuple[TensorSpec, ...], graph: dict, what: str, manifest: Manifest) -> None:
    for spec in specs:
        node = graph.get(spec.name)
        if node is None:
            raise PackageError(f"{manifest.root}: the signature's {what} {spec.name!r} is not in the ONNX graph, "
                               f"which has {', '.join(sorted(graph))}")
        actual = datatypes.from_onnx(node.type)
        if actual != spec.datatype:
            raise PackageError(f"{manifest.root}: {what} {spec.name!r} is {spec.datatype} in the signature but "
                               f"{node.type} in the ONNX graph")


def _derived_sklearn_signature(estimator) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    features: Optional[int] = getattr(estimator, "n_features_in_", None)
    inputs = (TensorSpec("input-0", "FP64", (-1, features if isinstance(features, int) else -1)),)
    classes = getattr(estimator, "classes_", None)
    if classes is not None and callable(getattr(estimator, "predict", None)):
        outputs = [TensorSpec("predict", datatypes.from_numpy(np.asarray(classes).dtype), (-1,))]
        if callable(getattr(estimator, "predict_proba", None)):
            outputs.append(TensorSpec("predict_proba", "FP64", (-1, len(classes))))
        return inputs, tuple(outputs)
    targets = getattr(estimator, "n_outputs_", 1)
    shape = (-1,) if not isinstance(targets, int) or targets <= 1 else (-1, targets)
    return inputs, (TensorSpec("predict", "FP64", shape),)
