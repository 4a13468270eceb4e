"""The protocol's JSON schema: one function used by ``/api/schema``, the checked-in file
``docs/protocol.schema.json`` and the test that fails when they differ.

Regenerate the file after changing ``backend/protocol.py``::

    .venv/bin/python -m backend.schema --write
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from .protocol import PROTOCOL_VERSION, client_message_adapter, server_message_adapter

SCHEMA_FILE: Final = Path(__file__).resolve().parent.parent / "docs" / "protocol.schema.json"


@functools.cache
def protocol_schema() -> dict[str, Any]:
    """Both message unions (server -> client, client -> server) as JSON schema."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "buddyscope wire protocol",
        "description": "Messages on the /ws websocket; see docs/protocol.md.",
        "protocol_version": PROTOCOL_VERSION,
        "server_message": server_message_adapter.json_schema(mode="serialization"),
        "client_message": client_message_adapter.json_schema(mode="validation"),
    }


@functools.cache
def schema_text() -> str:
    """The schema as the checked-in file holds it (sorted keys, 2-space indent)."""
    return json.dumps(protocol_schema(), indent=2, sort_keys=True) + "\n"


@functools.cache
def schema_hash() -> str:
    return "sha256:" + hashlib.sha256(schema_text().encode()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.schema", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {SCHEMA_FILE}")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.write:
        SCHEMA_FILE.write_text(text)
        print(f"wrote {SCHEMA_FILE} ({schema_hash()})")
        return 0
    if args.check:
        current = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is stale: run python -m backend.schema --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
