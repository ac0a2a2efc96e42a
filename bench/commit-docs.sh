#!/usr/bin/env bash
# A commit that touches no stage input: appends a line to README.md in the current
# repository and commits it. hyperfine's --prepare for case 2 of bench/run.sh.
set -euo pipefail
date +%s%N >>README.md
git commit -q -m "docs: touch the README" -- README.md
