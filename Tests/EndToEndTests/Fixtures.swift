/// A four-stage pipeline with two branches: prepare -> train -> evaluate, and docs.
let basicPipeline = """
    version: 1
    name: demo
    params:
      factor: 2
      unused: 1
    env:
      GREETING: hello
    stages:
      prepare:
        run: cat data/input.txt > ${{ outputs.data }}
        inputs: [data/input.txt]
        outputs: { data: data.txt }
      train:
        run: sh scripts/train.sh ${{ stages.prepare.outputs.data }} ${{ params.factor }} > ${{ outputs.model }}
        inputs: [scripts/train.sh]
        outputs: { model: model.txt }
      evaluate:
        run: sh scripts/eval.sh ${{ stages.train.outputs.model }} > ${{ outputs.metrics }}
        outputs: { metrics: metrics.json }
        inputs: [scripts/eval.sh]
        metrics: metrics.json
      docs:
        run: wc -l < README.md > ${{ outputs.count }}
        inputs: [README.md]
        outputs: { count: count.txt }

    """

let basicFiles: [String: String] = [
    "pipelines/demo.yaml": basicPipeline,
    "data/input.txt": "one\ntwo\n",
    "scripts/train.sh": "echo \"model from $(cat $1) x$2 $GREETING\"\n",
    "scripts/eval.sh": "printf '{\"score\": %d, \"name\": \"m\"}' $(wc -c < $1)\n",
    "README.md": "# demo\n",
    "notes.txt": "unrelated\n",
]

/// Makes a repository with the basic pipeline committed.
func basicRepo() throws -> TempRepo {
    try TempRepo(files: basicFiles)
}
