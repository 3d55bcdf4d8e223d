"""Cut the vendor's ``{module}-v2.json`` documents down to what the simulator serves.

The full documents are 3.7 MB, much of it examples; the simulator and the contract test
need the operations (reads and writes), their parameters and the schemas they reach. The
cut is mechanical (no hand edits), so a newer download is one command away.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from connector.sandbox.servicetitan.openapi import MODULES

HERE = Path(__file__).parent


def _drop_examples(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_examples(v) for k, v in node.items() if k not in ("example", "examples")}
    if isinstance(node, list):
        return [_drop_examples(v) for v in node]
    return node


def cut(document: dict[str, Any]) -> dict[str, Any]:
    """The document's operations and the schema closure they reference."""
    keep = ("get", "post", "put", "patch", "delete", "parameters")
    paths = {
        path: {key: item[key] for key in keep if key in item}
        for path, item in document["paths"].items()
    }
    schemas = document["components"]["schemas"]
    reached: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    name = value.rsplit("/", 1)[-1]
                    if name not in reached:
                        reached.add(name)
                        walk(schemas[name])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(paths)
    components = {"schemas": {name: schemas[name] for name in sorted(reached)}}
    if "securitySchemes" in document["components"]:
        components["securitySchemes"] = document["components"]["securitySchemes"]
    cut_document = {
        "openapi": document["openapi"],
        "info": document["info"],
        "servers": document["servers"],
        "paths": paths,
        "components": components,
    }
    if "security" in document:
        cut_document["security"] = document["security"]
    result: dict[str, Any] = _drop_examples(cut_document)
    return result


def main(source: str) -> None:
    for module in MODULES:
        document = json.loads((Path(source) / f"{module}-v2.json").read_text())
        text = json.dumps(cut(document), indent=1, sort_keys=False)
        (HERE / f"{module}.json").write_text(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
