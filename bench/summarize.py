#!/usr/bin/env python3
"""Merges the timings of one command from several hyperfine (or timeit.py) JSON files.

    summarize.py LABEL FILE.json…

Prints a line for the log on stderr, and "MEDIAN CPU" (seconds: median wall time of
all runs, mean user + system time) on stdout for bench/lib.sh.
"""
import json
import statistics
import sys

label, files = sys.argv[1], sys.argv[2:]
times, cpu_total = [], 0.0
for path in files:
    with open(path) as f:
        result = json.load(f)["results"][0]
    runs = result["times"]
    times += runs
    cpu_total += (result.get("user", 0) + result.get("system", 0)) * len(runs)
median, cpu = statistics.median(times), cpu_total / len(times)
spread = f" ± {statistics.stdev(times) * 1000:.1f}" if len(times) > 1 else ""
print(f"   {label}: median {median * 1000:.1f} ms (mean {statistics.mean(times) * 1000:.1f}{spread} ms, "
      f"{min(times) * 1000:.1f} … {max(times) * 1000:.1f} ms, {len(times)} runs), CPU {cpu * 1000:.1f} ms",
      file=sys.stderr)
print(median, cpu)
