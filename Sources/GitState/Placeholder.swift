// GitState: see README.md
