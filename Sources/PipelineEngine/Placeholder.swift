// PipelineEngine: see README.md
