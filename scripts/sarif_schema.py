"""Write the official SARIF 2.1.0 JSON schema (OASIS, errata01) to the path given, for the
tests that validate `mlgate decide --format sarif` against it.

The Go module github.com/owenrumney/go-sarif ships the final schema verbatim, as a Go raw
string (pkg/report/v210/sarif/schema.go): `go mod download` fetches that module through the
Go module proxy (checked against the Go checksum database), the JSON is read out of it and
its id checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MODULE = "github.com/owenrumney/go-sarif/v3@v3.3.0"
SOURCE = "pkg/report/v210/sarif/schema.go"
SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def main(target: Path) -> int:
    go = os.environ.get("GO", "go")
    if shutil.which(go) is None:
        print(
            f"No Go toolchain ({go}): the SARIF 2.1.0 schema is not fetched, and the tests that "
            "validate --format sarif against it are skipped (install Go, then make sarif-schema)."
        )
        return 1 if os.environ.get("CI") == "true" else 0
    with tempfile.TemporaryDirectory() as outside_any_module:
        done = subprocess.run(
            [go, "mod", "download", "-json", MODULE],
            cwd=outside_any_module,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(f"go mod download {MODULE} failed:\n{done.stdout}{done.stderr}", file=sys.stderr)
        return 1
    source = (Path(json.loads(done.stdout)["Dir"]) / SOURCE).read_text(encoding="utf-8")
    schema = json.loads(source[source.index("`") + 1 : source.rindex("`")])
    if schema.get("id") != SCHEMA_ID:
        print(f"{MODULE}/{SOURCE} is not the schema {SCHEMA_ID}", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    print(f"SARIF 2.1.0 schema ({SCHEMA_ID}) from {MODULE} written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
