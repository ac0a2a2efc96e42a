// ArtifactStore: see README.md
