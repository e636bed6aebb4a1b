"""`mlgate serve`: the HTTP decision service (see service/api)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the HTTP decision service",
        description="Run the HTTP decision service (default 127.0.0.1:8080). On first run it "
        "creates one token per role and shows them once.",
    )
    parser.add_argument("--host", help="address to listen on (MLGATE_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--workers",
        type=int,
        help="decision worker processes (default: one per CPU)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.api.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers)
