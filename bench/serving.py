"""The command line of the benchmark's own servers: `python -m <module> serve --host H --port P`, served as the
services are (`libs.common.cli.serve`), so that what they measure differs from the services only in the app."""

import argparse

from libs.common.cli import serve


def serve_from_command_line(module: str, app_factory: str) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {module}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    serve(app_factory, args.host, args.port)
