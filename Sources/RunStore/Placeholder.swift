// RunStore: see README.md
