// PipelineSpec: see README.md
