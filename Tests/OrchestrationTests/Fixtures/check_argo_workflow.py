"""Checks Argo Workflows manifests against a JSON schema.

Usage: python3 check_argo_workflow.py SCHEMA.json MANIFEST.yaml...

SCHEMA.json is either argo-workflow-subset.json (mlpipe's own schema of the Workflow and
WorkflowTemplate fields its renderer writes: every object closed with
additionalProperties: false, so a misspelt or misplaced field is an error), or Argo's
published api/jsonschema/schema.json (`make check-argo` downloads it at a pinned release).
The published schema leaves its objects open, so with it every field of the manifest must
also be declared by the schema (following its $refs), as Argo's controller, which decodes
strictly, requires: a typo would otherwise pass.

Prints one line per manifest (valid) or per problem, FILE: PATH: MESSAGE, and exits 1 when
there is any problem.
"""
import json
import sys

import jsonschema
import yaml


def resolve(schema, root):
    while isinstance(schema, dict) and "$ref" in schema:
        pointer = schema["$ref"]
        if not pointer.startswith("#/"):
            return schema
        node = root
        for part in pointer[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def undeclared(value, schema, root, path):
    """Fields of `value` that `schema` does not declare."""
    schema = resolve(schema, root)
    problems = []
    if not isinstance(schema, dict):
        return problems
    if "oneOf" in schema and path == "":
        # The published schema's root: the alternative whose kind matches.
        for option in schema["oneOf"]:
            target = resolve(option, root)
            if target.get("properties", {}).get("kind", {}).get("const") == value.get("kind"):
                return undeclared(value, target, root, path)
        return [f"(root): no alternative of the schema is kind {value.get('kind')!r}"]
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                problems += undeclared(item, properties[key], root, f"{path}.{key}")
            elif isinstance(additional, dict):
                problems += undeclared(item, additional, root, f"{path}.{key}")
            elif properties is not None:
                problems.append(f"{path or '(root)'}.{key}: unknown field")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += undeclared(item, schema["items"], root, f"{path}[{index}]")
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        schema = json.load(handle)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    published = "definitions" in schema
    failures = 0
    for manifest_path in sys.argv[2:]:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = yaml.safe_load(handle)
        problems = [
            f"{'.'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
        ]
        if published:
            problems += undeclared(manifest, schema, schema, "")
        for problem in problems:
            print(f"{manifest_path}: {problem}")
        failures += len(problems)
        if not problems:
            print(f"{manifest_path}: valid against {sys.argv[1].rsplit('/', 1)[-1]} ({manifest.get('kind')})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
