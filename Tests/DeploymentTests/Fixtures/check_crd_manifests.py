"""Checks manifests of custom resources against mlpipe's schemas (schemas/) or the published CRDs (crds/).

Usage: python3 check_crd_manifests.py SCHEMA_DIR MANIFEST.yaml...

SCHEMA_DIR is either schemas/ (mlpipe's own JSON Schemas of the fields it renders, one
*.json per kind, keyed by the `const` of their apiVersion and kind; they close every object
with additionalProperties: false, so an undeclared field is a jsonschema error), or a folder
with SHA256SUMS, such as crds/ (the published CRDs; `make check-crds`).

With the published CRDs: for each manifest, the CRD whose group, kind and served version match its apiVersion and
kind is looked up in CRD_DIR (every file there is checked against crds/SHA256SUMS first,
so a schema of another release cannot slip in). The manifest is validated against that
version's openAPIV3Schema with jsonschema (Draft 7 semantics, which OpenAPI v3 schemas
follow for the keywords CRDs use), and, as the API server's strict field validation does,
any field the schema does not declare is an error (a typo would otherwise be pruned in
silence). CEL rules (x-kubernetes-validations) are not evaluated.

Prints one line per problem, FILE: PATH: MESSAGE, and exits 1 when there is any.
"""
import hashlib
import json
import os
import sys

import jsonschema
import yaml


def load_crds(directory):
    sums = {}
    with open(os.path.join(directory, "SHA256SUMS"), encoding="utf-8") as listing:
        for line in listing:
            if line.strip():
                digest, name = line.split()
                sums[name] = digest
    crds = {}
    for name, digest in sorted(sums.items()):
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            sys.exit(f"{path}: missing; see {directory}/README.md for where it comes from")
        with open(path, "rb") as handle:
            data = handle.read()
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            sys.exit(f"{path}: sha256 {actual} is not the {digest} of SHA256SUMS; see README.md")
        for document in yaml.safe_load_all(data):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            spec = document["spec"]
            for version in spec["versions"]:
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                crds[key] = (name, version["schema"]["openAPIV3Schema"])
    return crds


def load_schemas(directory):
    schemas = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            schema = json.load(handle)
        jsonschema.Draft7Validator.check_schema(schema)
        properties = schema["properties"]
        schemas[(properties["apiVersion"]["const"], properties["kind"]["const"])] = (name, schema)
    if not schemas:
        sys.exit(f"{directory}: no *.json schemas and no SHA256SUMS; pass Fixtures/schemas or Fixtures/crds")
    return schemas


def undeclared(value, schema, path):
    """Fields of `value` that `schema` does not declare, as the API server's strict mode reports them."""
    problems = []
    if not isinstance(schema, dict):
        return problems
    if isinstance(value, dict) and schema.get("type") == "object":
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return problems
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if path == "" and key in ("apiVersion", "kind", "metadata"):
                # The API server accepts these on every custom resource, declared or not.
                continue
            if properties is not None and key in properties:
                problems += undeclared(item, properties[key], f"{path}.{key}")
            elif isinstance(additional, dict):
                problems += undeclared(item, additional, f"{path}.{key}")
            elif properties is not None and path != "":
                problems.append(f"{path}.{key}: unknown field")
            elif properties is not None:
                problems.append(f".{key}: unknown field")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += undeclared(item, schema["items"], f"{path}[{index}]")
    return problems


def main():
    published = os.path.exists(os.path.join(sys.argv[1], "SHA256SUMS"))
    crds = load_crds(sys.argv[1]) if published else load_schemas(sys.argv[1])
    failures = 0
    for manifest_path in sys.argv[2:]:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = yaml.safe_load(handle)
        key = (manifest.get("apiVersion"), manifest.get("kind"))
        if key not in crds:
            print(f"{manifest_path}: no schema in {sys.argv[1]} for {key[0]} {key[1]}")
            failures += 1
            continue
        source, schema = crds[key]
        validator = jsonschema.Draft7Validator(schema)
        problems = [
            f"{'.'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(manifest), key=lambda error: list(map(str, error.absolute_path)))
        ]
        if published:
            problems += undeclared(manifest, schema, "")
        for problem in problems:
            print(f"{manifest_path}: {problem} (schema: {source})")
        failures += len(problems)
        if not problems:
            print(f"{manifest_path}: valid against {source} ({key[0]} {key[1]})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
