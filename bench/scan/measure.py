"""Runs one command several times and prints its median wall time and peak memory.

    python measure.py RUNS -- COMMAND [ARG...]

Prints one line: `<median seconds> <peak RSS KiB> <exit status>`. The peak is the
largest maximum resident set size of any run (getrusage of the finished child, which
counts the pages a process mapped and touched, file-backed ones included). Output of
the command goes to /dev/null; a warm-up run first puts the file in the page cache, so
that every tool is measured reading from memory, not from the disk.
"""
import os
import statistics
import subprocess
import sys
import time


def run_once(command):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, process.returncode


def main():
    runs = int(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1:]
    run_once(command)
    times, peaks, codes = [], [], set()
    for _ in range(runs):
        elapsed, peak, code = run_once(command)
        times.append(elapsed)
        peaks.append(peak)
        codes.add(code)
    print(f"{statistics.median(times):.4f} {max(peaks)} {','.join(str(c) for c in sorted(codes))}")


main()
