#!/usr/bin/env python3
"""Writes the ONNX, safetensors and Keras fixtures for ModelFormatsTests.

    make_formats_corpus.py OUTDIR

Every file is made by the real library that writes the format (onnx.helper, skl2onnx,
safetensors, h5py) or derived from such a file by a documented edit, so that no binary
fixture is ever edited by hand. The Swift tests run this with the venv's python into a
temporary folder. Nothing here is loaded or executed: the "malicious" files only carry
the names and bytes a scanner must flag.
"""
import base64
import json
import marshal
import os
import struct
import sys

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save as st_save

OPSET = [helper.make_opsetid("", 17)]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- ONNX

def mlp_graph(name="mlp", extra_inputs=()):
    """x[batch, 4] -> MatMul/Add/Relu -> MatMul/Add -> y[batch, 3], float32."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 8)).astype(np.float32), "W1"),
        numpy_helper.from_array(np.zeros(8, np.float32), "B1"),
        numpy_helper.from_array(rng.standard_normal((8, 3)).astype(np.float32), "W2"),
        numpy_helper.from_array(np.zeros(3, np.float32), "B2"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h0"]),
        helper.make_node("Add", ["h0", "B1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "W2"], ["h3"]),
        helper.make_node("Add", ["h3", "B2"], ["y"]),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])]
    inputs += list(extra_inputs)
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])]
    return helper.make_graph(nodes, name, inputs, outputs, initializer=inits)


def model(graph, opsets=OPSET, **kwargs):
    m = helper.make_model(graph, opset_imports=opsets, producer_name="mlpipe-tests", **kwargs)
    m.ir_version = 9
    return m


def make_onnx(out):
    d = os.path.join(out, "onnx")
    os.makedirs(d, exist_ok=True)

    mlp = model(mlp_graph())
    onnx.checker.check_model(mlp)
    onnx.save_model(mlp, os.path.join(d, "mlp.onnx"))

    # IR < 4 style: an initializer also listed as a graph input is not part of the signature.
    legacy = model(mlp_graph(extra_inputs=[
        helper.make_tensor_value_info("W1", TensorProto.FLOAT, [4, 8])]))
    onnx.save_model(legacy, os.path.join(d, "initializer_input.onnx"))

    # A node from a custom domain (needs a custom op library at run time).
    g = helper.make_graph(
        [helper.make_node("Exec", ["x"], ["y"], domain="com.example.evil")], "custom",
        [helper.make_tensor_value_info("x", TensorProto.INT64, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [None, 2])])
    onnx.save_model(model(g, OPSET + [helper.make_opsetid("com.example.evil", 1)]),
                    os.path.join(d, "custom_domain.onnx"))

    # The custom node hidden in the else-branch of an If.
    branch = lambda name, nodes: helper.make_graph(
        nodes, name, [], [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1])])
    then_g = branch("then", [helper.make_node("Constant", [], ["z"], value=numpy_helper.from_array(
        np.ones(1, np.float32)))])
    else_g = branch("else", [helper.make_node("Hidden", [], ["z"], domain="org.example.hidden")])
    g = helper.make_graph(
        [helper.make_node("If", ["c"], ["z"], then_branch=then_g, else_branch=else_g)], "nested",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1])])
    onnx.save_model(model(g, OPSET + [helper.make_opsetid("org.example.hidden", 1)]),
                    os.path.join(d, "nested_custom.onnx"))

    # A model-local function in its own domain is defined inside the model: not custom code.
    fn = helper.make_function("local.fn", "Double", ["a"], ["b"],
                              [helper.make_node("Add", ["a", "a"], ["b"])], OPSET)
    g = helper.make_graph(
        [helper.make_node("Double", ["x"], ["y"], domain="local.fn")], "with_function",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n"])])
    onnx.save_model(model(g, OPSET + [helper.make_opsetid("local.fn", 1)], functions=[fn]),
                    os.path.join(d, "local_function.onnx"))

    # External data next to the model.
    inside = os.path.join(d, "external_inside")
    os.makedirs(inside, exist_ok=True)
    onnx.save_model(model(mlp_graph()), os.path.join(inside, "model.onnx"),
                    save_as_external_data=True, location="weights.bin", size_threshold=0)

    def with_locations(folder, locations, lengths=None):
        """An MLP whose initializers point at `locations` (cycled), data never written."""
        os.makedirs(os.path.join(d, folder), exist_ok=True)
        m = model(mlp_graph())
        for i, t in enumerate(m.graph.initializer):
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            del t.external_data[:]
            entry = t.external_data.add()
            entry.key, entry.value = "location", locations[i % len(locations)]
            if lengths:
                for key, value in (("offset", "0"), ("length", str(lengths[i % len(lengths)]))):
                    e = t.external_data.add()
                    e.key, e.value = key, value
        write(os.path.join(d, folder, "model.onnx"), m.SerializeToString())

    with_locations("external_outside", ["../secret.bin", "/etc/passwd"])
    write(os.path.join(d, "secret.bin"), b"\0" * 128)
    with_locations("external_symlink", ["link.bin"])
    link = os.path.join(d, "external_symlink", "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join("..", "secret.bin"), link)
    with_locations("external_missing", ["nothere.bin"])
    with_locations("external_short", ["short.bin"], lengths=[4096])
    write(os.path.join(d, "external_short", "short.bin"), b"\0" * 16)

    # A real scikit-learn model through skl2onnx: ai.onnx.ml operators, ZipMap output.
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    x = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=np.float32)
    clf = LogisticRegression().fit(x, [0, 1, 1, 0])
    onx = to_onnx(clf, x[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    onnx.save_model(onx, os.path.join(d, "sklearn_logreg.onnx"))


# ---------------------------------------------------------------- safetensors

def st_raw(header, data, length=None):
    """A safetensors file from a header dict (or raw JSON bytes) and a data section."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def make_safetensors(out):
    d = os.path.join(out, "safetensors")
    os.makedirs(d, exist_ok=True)
    tensors = {
        "embedding.weight": np.arange(24, dtype=np.float32).reshape(6, 4),
        "head.bias": np.ones(3, dtype=np.float16),
        "steps": np.array([7], dtype=np.int64),
        "empty": np.zeros((0, 5), dtype=np.float32),
    }
    good = st_save(tensors, metadata={"format": "np", "source": "mlpipe-tests"})
    write(os.path.join(d, "good.safetensors"), good)

    n = struct.unpack("<Q", good[:8])[0]
    header = json.loads(good[8:8 + n])
    data = good[8 + n:]

    def variant(name, edit, data_edit=lambda b: b, length=None):
        h = json.loads(json.dumps(header))
        edit(h)
        write(os.path.join(d, name), st_raw(h, data_edit(data), length))

    def overlap(h):
        h["head.bias"]["data_offsets"] = [h["embedding.weight"]["data_offsets"][0] + 4,
                                          h["embedding.weight"]["data_offsets"][0] + 10]
    variant("overlap.safetensors", overlap)
    # Shift every tensor 16 bytes up and pad: 16 bytes nobody owns at the start.
    def gap(h):
        for k, v in h.items():
            if k != "__metadata__":
                v["data_offsets"] = [v["data_offsets"][0] + 16, v["data_offsets"][1] + 16]
    variant("gap.safetensors", gap, lambda b: b"\x90" * 16 + b)
    variant("trailing.safetensors", lambda h: None, lambda b: b + b"PK\x03\x04 hidden payload")
    variant("bad_dtype.safetensors", lambda h: h["steps"].update(dtype="F128"))
    variant("wrong_size.safetensors", lambda h: h["embedding.weight"].update(shape=[6, 5]))
    variant("metadata_not_string.safetensors", lambda h: h["__metadata__"].update(epochs=3))
    variant("past_end.safetensors", lambda h: None, lambda b: b[:-8])
    write(os.path.join(d, "huge_header_length.safetensors"), st_raw(header, data, length=1 << 40))
    raw = st_raw(header, data)
    write(os.path.join(d, "header_past_end.safetensors"), struct.pack("<Q", len(raw)) + raw[8:])
    write(os.path.join(d, "not_json.safetensors"), st_raw(b'{"a": {"dtype": "F32",', b""))
    write(os.path.join(d, "duplicate_key.safetensors"), st_raw(
        b'{"w": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, '
        b'"w": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}', b"\0" * 4))


# ---------------------------------------------------------------- Keras

def keras2_dense(name, units, activation="relu", input_dim=None):
    config = {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None,
    }
    if input_dim:
        config["batch_input_shape"] = [None, input_dim]
    return {"class_name": "Dense", "config": config}


def keras2_sequential(layers):
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def keras2_lambda():
    # What keras.utils.func_dump writes for `lambda x: x * 2`: marshalled bytecode.
    code = base64.b64encode(marshal.dumps((lambda x: x * 2).__code__)).decode()
    return {"class_name": "Lambda", "config": {
        "name": "double", "trainable": True, "dtype": "float32",
        "function": [code, None, None], "function_type": "lambda", "module": "__main__",
        "output_shape": None, "output_shape_type": "raw", "arguments": {}}}


TRAINING = {"loss": "mse", "metrics": ["mae"], "optimizer_config": {
    "class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001}}}


def h5_model(path, model_config=None, training_config=None, vlen=False, userblock=0,
             raw_config=None):
    kwargs = {"userblock_size": userblock} if userblock else {}
    with h5py.File(path, "w", **kwargs) as f:
        if raw_config is not None:
            f.attrs["model_config"] = raw_config
        elif model_config is not None:
            # h5py 2 (most Keras 2 files) wrote fixed-length strings; h5py 3 writes
            # variable-length ones for str and bytes alike.
            # The fixed-length one is NUL-padded past its text, as a wider field would be.
            text = json.dumps(model_config).encode("utf8")
            f.attrs["model_config"] = (text.decode() if vlen
                                       else np.array(text, dtype=f"S{len(text) + 13}"))
        if training_config is not None:
            f.attrs["training_config"] = np.bytes_(json.dumps(training_config).encode("utf8"))
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = "tensorflow"
        w = f.create_group("model_weights/dense/dense")
        w.create_dataset("kernel:0", data=np.ones((4, 3), np.float32))
    if model_config is not None:
        with h5py.File(path, "r") as f:
            assert f.attrs.get_id("model_config").get_type().is_variable_str() == vlen


def keras3(module, class_name, config, registered_name=None, **extra):
    obj = {"module": module, "class_name": class_name, "config": config,
           "registered_name": registered_name}
    obj.update(extra)
    return obj


def keras3_dense(name, activation="relu"):
    return keras3("keras.layers", "Dense", {
        "name": name, "trainable": True,
        "dtype": keras3("keras", "DTypePolicy", {"name": "float32"}),
        "units": 3, "activation": activation, "use_bias": True,
        "kernel_initializer": keras3("keras.initializers", "GlorotUniform", {"seed": None}),
        "bias_initializer": keras3("keras.initializers", "Zeros", {}),
        "kernel_regularizer": None,
    }, build_config={"input_shape": [None, 4]})


def keras3_model(layers):
    return keras3("keras", "Sequential", {
        "name": "sequential", "trainable": True,
        "layers": [keras3("keras.layers", "InputLayer", {
            "batch_shape": [None, 4], "dtype": "float32", "sparse": False, "name": "input_layer"})]
        + layers,
    }, build_config={"input_shape": [None, 4]}, compile_config={
        "optimizer": keras3("keras.optimizers", "Adam", {"name": "adam", "learning_rate": 0.001}),
        "loss": "mean_squared_error", "metrics": None})


def make_keras(out):
    d = os.path.join(out, "keras")
    os.makedirs(d, exist_ok=True)
    benign = keras2_sequential([keras2_dense("dense", 8, input_dim=4), keras2_dense("out", 3, "softmax")])
    h5_model(os.path.join(d, "dense.h5"), benign, TRAINING)
    h5_model(os.path.join(d, "dense_vlen.h5"), benign, vlen=True)
    h5_model(os.path.join(d, "dense_userblock.h5"), benign, userblock=512)
    h5_model(os.path.join(d, "weights_only.h5"))
    h5_model(os.path.join(d, "lambda.h5"), keras2_sequential(
        [keras2_dense("dense", 8, input_dim=4), keras2_lambda()]))
    outside = keras2_sequential([keras2_dense("dense", 8, input_dim=4), {
        "module": "evil_pkg.layers", "class_name": "Backdoor", "registered_name": None,
        "config": {"name": "backdoor"}}])
    h5_model(os.path.join(d, "module_outside.h5"), outside)
    h5_model(os.path.join(d, "training_outside.h5"), benign, {
        "loss": {"module": "evil_pkg.losses", "class_name": "function", "config": "steal",
                 "registered_name": None}})
    h5_model(os.path.join(d, "not_json.h5"), raw_config=b'{"class_name": "Sequential", ')
    h5_model(os.path.join(d, "duplicate_key.h5"),
             raw_config=b'{"class_name": "Dense", "class_name": "Lambda", "config": {}}')
    h5_model(os.path.join(d, "config_array.h5"), raw_config=np.array([b"{}", b"{}"]))
    write(os.path.join(d, "not_hdf5.h5"), b"\x89HDF\r\n\x1a\n" + b"\0" * 64)

    # `.keras` archives' config.json (Keras 3 serialization).
    configs = {
        "config_benign.json": keras3_model([
            keras3_dense("dense"),
            keras3_dense("out", keras3("keras.activations", "function", "softmax", "softmax"))]),
        "config_lambda.json": keras3_model([keras3("keras.layers", "Lambda", {
            "name": "double", "function": {"class_name": "__lambda__", "config": {
                "value": [base64.b64encode(marshal.dumps((lambda x: x * 2).__code__)).decode(),
                          None, None]}}})]),
        "config_module.json": keras3_model([
            keras3_dense("dense", keras3("builtins", "function", "exec", "exec")),
            keras3("subprocess", "Popen", {"name": "popen", "args": ["id"]})]),
        "config_get_file.json": keras3_model([keras3(
            "keras.layers", "Dense",
            {"name": "fetch", "units": 1,
             "kernel_initializer": keras3("keras.utils", "function", "get_file", "get_file")})]),
        "config_registered.json": keras3_model([keras3(
            "keras.layers", "Dense", {"name": "custom", "units": 1},
            registered_name="evil_pkg>Backdoor")]),
    }
    for name, config in configs.items():
        write(os.path.join(d, name), json.dumps(config, indent=1).encode())


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_formats_corpus.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    make_onnx(out)
    make_safetensors(out)
    make_keras(out)


if __name__ == "__main__":
    main()
