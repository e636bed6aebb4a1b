"""`mlgate serve`: the HTTP decision service (see service/api)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the HTTP decision service")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.api.server import serve

    return serve(host=args.host, port=args.port)
