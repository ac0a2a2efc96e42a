#!/usr/bin/env python3
"""Fallback timer for when hyperfine is missing: hyperfine's JSON, median of wall times.

    timeit.py OUT.json RUNS WARMUP PREPARE COMMAND

PREPARE (a shell line, or "" for none) runs before every timed run, untimed. COMMAND is
split as a shell would split it and run without a shell, its output discarded, as
`hyperfine -N` does. A non-zero exit stops the bench.
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

out, runs, warmup, prepare, command = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
argv = shlex.split(command)
times = []
cpu = []
for i in range(warmup + runs):
    if prepare:
        subprocess.run(prepare, shell=True, check=True, stdout=subprocess.DEVNULL)
    before = os.times()
    start = time.perf_counter()
    code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    took = time.perf_counter() - start
    after = os.times()
    if code != 0:
        sys.exit(f"timeit.py: '{command}' exited {code}")
    if i >= warmup:
        times.append(took)
        cpu.append((after.children_user - before.children_user, after.children_system - before.children_system))
with open(out, "w") as f:
    json.dump({"results": [{"command": command, "median": statistics.median(times), "mean": statistics.mean(times),
                            "min": min(times), "max": max(times), "times": times,
                            "user": statistics.mean(u for u, _ in cpu), "system": statistics.mean(s for _, s in cpu)}]}, f)
print(f"  {command}: median {statistics.median(times) * 1000:.1f} ms over {runs} runs")
