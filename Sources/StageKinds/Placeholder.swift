// StageKinds: see README.md
