#!/usr/bin/env python3
"""Writes the files of the bench repositories: pipelines, dvc.yaml, Makefiles, data.

    gen.py six DIR              6-stage pipeline (mlpipe) and its dvc.yaml twin
    gen.py folder DIR N         N committed files under DIR/data, a stage over the folder
    gen.py bigfile DIR          a stage whose input is data/big.bin (the file is made by run.sh)
    gen.py dag DIR N            N trivial command stages as a DAG, and the same as a Makefile
    gen.py tiny DIR             one trivial stage, to create a workspace and its database
    gen.py matrix DIR           a stage with a 10 x 10 matrix (100 instances), and its dvc.yaml twin

Every layout is a repository root: sources, `pipelines/bench.yaml`, `dvc.yaml` where a
DVC twin exists, and a `.gitignore` that keeps mlpipe's workspace out of git.
"""
import os
import sys


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def gitignore(root):
    write(os.path.join(root, ".gitignore"), "/workspace/\n")
    write(os.path.join(root, "README.md"), "bench repository\n")


# Six stages, a DAG rather than a chain: prepare -> features -> train -> {evaluate, export} -> report.
# Each reads one source file of its own plus its upstream outputs, and writes one output.
SIX = [
    # name, sources, upstream (stage, output), output
    ("prepare", ["src/raw.csv", "src/prepare.sh"], [], "data.csv"),
    ("features", ["src/features.sh"], [("prepare", "data.csv")], "features.csv"),
    ("train", ["src/train.sh"], [("features", "features.csv")], "model.bin"),
    ("evaluate", ["src/evaluate.sh"], [("train", "model.bin"), ("prepare", "data.csv")], "metrics.txt"),
    ("export", ["src/export.sh"], [("train", "model.bin")], "model.onnx"),
    ("report", ["src/report.sh"], [("evaluate", "metrics.txt"), ("export", "model.onnx")], "report.txt"),
]


def key(output):
    return output.split(".")[0]


def six(root):
    gitignore(root)
    sources = sorted({s for _, srcs, _, _ in SIX for s in srcs})
    for s in sources:
        write(os.path.join(root, s), f"# {s}\n" + "".join(f"{s},{i},{i * 7 % 13}\n" for i in range(200)))
    ml = ["version: 1", "name: six", "stages:"]
    dvc = ["stages:"]
    for name, srcs, ups, out in SIX:
        ml_in = " ".join(srcs + [f"${{{{ stages.{u}.outputs.{key(o)} }}}}" for u, o in ups])
        dvc_in = " ".join(srcs + [f"out/{o}" for _, o in ups])
        ml += [
            f"  {name}:",
            f'    run: "cat {ml_in} > ${{{{ outputs.{key(out)} }}}}"',
            f"    inputs: [{', '.join(srcs)}]",
            f"    outputs: {{ {key(out)}: {out} }}",
        ]
        dvc += [
            f"  {name}:",
            f"    cmd: cat {dvc_in} > out/{out}",
            "    deps:",
            *[f"      - {d}" for d in srcs + [f"out/{o}" for _, o in ups]],
            "    outs:",
            f"      - out/{out}",
        ]
    write(os.path.join(root, "pipelines/bench.yaml"), "\n".join(ml) + "\n")
    write(os.path.join(root, "dvc.yaml"), "\n".join(dvc) + "\n")
    os.makedirs(os.path.join(root, "out"), exist_ok=True)


def folder(root, count):
    gitignore(root)
    per_dir = 1000
    for d in range((count + per_dir - 1) // per_dir):
        sub = os.path.join(root, "data", f"{d:03d}")
        os.makedirs(sub, exist_ok=True)
        for i in range(d * per_dir, min(count, (d + 1) * per_dir)):
            with open(os.path.join(sub, f"{i:06d}.txt"), "w") as f:
                f.write(f"sample {i}\nlabel {i % 10}\n")
    write(os.path.join(root, "pipelines/bench.yaml"), "\n".join([
        "version: 1",
        "name: folder",
        "stages:",
        "  count:",
        '    run: "find data -type f | wc -l > ${{ outputs.count }}"',
        "    inputs: [data]",
        "    outputs: { count: count.txt }",
    ]) + "\n")
    write(os.path.join(root, "dvc.yaml"), "\n".join([
        "stages:",
        "  count:",
        "    cmd: find data -type f | wc -l > out/count.txt",
        "    deps:",
        "      - data",
        "    outs:",
        "      - out/count.txt",
    ]) + "\n")
    os.makedirs(os.path.join(root, "out"), exist_ok=True)


def bigfile(root):
    gitignore(root)
    write(os.path.join(root, "data/.keep"), "")
    write(os.path.join(root, "pipelines/bench.yaml"), "\n".join([
        "version: 1",
        "name: bigfile",
        "stages:",
        "  size:",
        '    run: "wc -c < data/big.bin > ${{ outputs.size }}"',
        "    inputs: [data/big.bin]",
        "    outputs: { size: size.txt }",
    ]) + "\n")


def dag(root, count):
    """Stage k needs stage (k-1)//2: a binary tree, so two jobs always have work."""
    gitignore(root)
    ml = ["version: 1", "name: dag", "stages:"]
    mk = [".PHONY: all " + " ".join(f"s{k}" for k in range(count)), "", "all: " + " ".join(f"s{k}" for k in range(count)), ""]
    for k in range(count):
        parent = f"s{(k - 1) // 2}" if k > 0 else ""
        ml += [f"  s{k}:", f'    run: "echo s{k}"', "    inputs: [README.md]"]
        if parent:
            ml.append(f"    needs: [{parent}]")
        mk += [f"s{k}: {parent}".rstrip(), f"\t@echo s{k}", ""]
    write(os.path.join(root, "pipelines/bench.yaml"), "\n".join(ml) + "\n")
    write(os.path.join(root, "Makefile"), "\n".join(mk))


def tiny(root):
    gitignore(root)
    write(os.path.join(root, "pipelines/bench.yaml"), "\n".join([
        "version: 1",
        "name: tiny",
        "stages:",
        "  hello:",
        '    run: "echo hello > ${{ outputs.greeting }}"',
        "    inputs: [README.md]",
        "    outputs: { greeting: greeting.txt }",
    ]) + "\n")


def matrix(root):
    """One stage swept over a 10 x 10 matrix: 100 instances, each writing its own file."""
    gitignore(root)
    write(os.path.join(root, "src/train.sh"), "# the trainer\n")
    values = ", ".join(str(i) for i in range(10))
    write(os.path.join(root, "pipelines/bench.yaml"), "\n".join([
        "version: 1",
        "name: matrix",
        "stages:",
        "  train:",
        f"    matrix: {{ a: [{values}], b: [{values}] }}",
        '    run: "cat src/train.sh > ${{ outputs.model }}; echo ${{ matrix.a }} ${{ matrix.b }} >> ${{ outputs.model }}"',
        "    inputs: [src/train.sh]",
        "    outputs:",
        "      model: model-${{ matrix.a }}-${{ matrix.b }}.txt",
    ]) + "\n")
    write(os.path.join(root, "dvc.yaml"), "\n".join([
        "stages:",
        "  train:",
        f"    matrix: {{ a: [{values}], b: [{values}] }}",
        "    cmd: cat src/train.sh > out/model-${item.a}-${item.b}.txt; echo ${item.a} ${item.b} >> out/model-${item.a}-${item.b}.txt",
        "    deps: [src/train.sh]",
        "    outs:",
        "      - out/model-${item.a}-${item.b}.txt",
    ]) + "\n")
    os.makedirs(os.path.join(root, "out"), exist_ok=True)


if __name__ == "__main__":
    what, root, *rest = sys.argv[1:]
    if what == "six":
        six(root)
    elif what == "folder":
        folder(root, int(rest[0]))
    elif what == "bigfile":
        bigfile(root)
    elif what == "dag":
        dag(root, int(rest[0]))
    elif what == "tiny":
        tiny(root)
    elif what == "matrix":
        matrix(root)
    else:
        sys.exit(f"gen.py: unknown layout '{what}'")
