#!/usr/bin/env python3
"""Turns the bench's results (TSV) into the table, on stdout and as Markdown.

    table.py RESULTS.tsv MARKDOWN_OUT MACHINE_LINE

Each TSV row: case, mlpipe seconds, reference name, reference seconds, kind, target,
mlpipe CPU seconds, reference CPU seconds (wall times are medians; CPU times are means
of user + system, which a shared machine disturbs less).
Kinds, each with its ratio written the way the target is stated:
- faster:     reference / mlpipe, at least `target` (e.g. "42.0x faster", target >= 30x)
- atmost:     mlpipe / reference, at most `target` ("1.20x", target <= 1.5x)
- throughput: reference / mlpipe, at least `target` (mlpipe's throughput relative to the reference)
- under:      mlpipe time under `target` milliseconds (no reference)
- ratio:      mlpipe / reference, shown for scale; no target, so neither met nor missed
- failed:     the case stopped before it was measured; `target` holds why
Exits 0 whatever the outcome: missed targets are reported, not hidden, and not fatal.
"""
import sys

SCALE = "-"  # the verdict of a row that has no target (kind `ratio`)


def fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def row(case, ml, ref_name, ref, kind, target, ml_cpu="-", ref_cpu="-"):
    if kind == "failed":  # the case could not be measured; `target` says why
        return [case, "-", "-", "-", target, None, "-", "-"]
    cpu = [fmt_time(float(ml_cpu)) if ml_cpu not in ("", "-") else "-",
           f"{ref_name} {fmt_time(float(ref_cpu))}" if ref_cpu not in ("", "-") else "-"]
    return verdict(case, ml, ref_name, ref, kind, target) + cpu


def verdict(case, ml, ref_name, ref, kind, target):
    ml = float(ml)
    ref = float(ref) if ref not in ("", "-") else None
    target = float(target) if target not in ("", "-") else None
    if kind == "faster":
        ratio = ref / ml
        return [case, fmt_time(ml), f"{ref_name} {fmt_time(ref)}", f"{ratio:.1f}x faster", f">= {target:g}x faster",
                ratio >= target]
    if kind == "atmost":
        ratio = ml / ref
        return [case, fmt_time(ml), f"{ref_name} {fmt_time(ref)}", f"{ratio:.2f}x its time", f"<= {target:g}x",
                ratio <= target]
    if kind == "throughput":
        ratio = ref / ml
        return [case, fmt_time(ml), f"{ref_name} {fmt_time(ref)}", f"{ratio:.2f}x its throughput",
                f">= {target:g}x throughput", ratio >= target]
    if kind == "under":
        return [case, fmt_time(ml), "-", "-", f"< {target:g} ms", ml * 1000 < target]
    if kind == "ratio":
        return [case, fmt_time(ml), f"{ref_name} {fmt_time(ref)}", f"{ml / ref:.2f}x its time", "-", SCALE]
    raise SystemExit(f"table.py: unknown kind '{kind}'")


def main():
    results, markdown, machine = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = []
    with open(results) as f:
        for line in f:
            if line.strip():
                rows.append(row(*line.rstrip("\n").split("\t")))
    header = ["case", "mlpipe", "reference", "ratio", "target", "ok?"]
    cells = [header] + [r[:5] + [r[5] if r[5] is SCALE else "FAILED" if r[5] is None else "yes" if r[5] else "MISSED"]
                        for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    line = lambda c: " | ".join(c[i].ljust(widths[i]) for i in range(len(c)))
    print(line(cells[0]))
    print("-+-".join("-" * w for w in widths))
    for c in cells[1:]:
        print(line(c))
    targets = [r for r in rows if r[5] is not SCALE]
    missed = sum(1 for r in targets if not r[5])  # a failed case counts as missed
    print(f"\n{len(targets) - missed} of {len(targets)} targets met; {machine}")
    cpu_header = ["case", "mlpipe CPU", "reference CPU"]
    cpu_cells = [cpu_header]
    for r in rows:  # one line per measurement: a case with two targets is listed once
        if r[7] != "-" or not any(c[0] == r[0] for c in cpu_cells):
            cpu_cells = [c for c in cpu_cells if c[0] != r[0] or c[2] != "-"] + [[r[0], r[6], r[7]]]
    cpu_widths = [max(len(c[i]) for c in cpu_cells) for i in range(3)]
    print("\nCPU time (user + system, mean of the same runs):")
    for c in cpu_cells:
        print(" | ".join(c[i].ljust(cpu_widths[i]) for i in range(3)))
    with open(markdown, "w") as f:
        f.write(f"Machine: {machine}\n\n")
        f.write("| " + " | ".join(header) + " |\n")
        f.write("|" + "|".join("---" for _ in header) + "|\n")
        for c in cells[1:]:
            f.write("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |\n")
        f.write(f"\n{len(targets) - missed} of {len(targets)} targets met. Times are medians of wall time.\n")
        f.write("\nCPU time (user + system, mean of the same runs):\n\n")
        f.write("| " + " | ".join(cpu_header) + " |\n|---|---|---|\n")
        for c in cpu_cells[1:]:
            f.write("| " + " | ".join(c) + " |\n")


main()
