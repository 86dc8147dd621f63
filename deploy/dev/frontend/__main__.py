"""`python -m deploy.dev.frontend serve --host H --port P`: the dev frontend as a process (see app.py)."""

import argparse
import os

import uvicorn

from deploy.dev.frontend.app import LIVEKIT_CLIENT, FrontendConfig, create_app
from deploy.dev.tools import npm_package


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.dev.frontend")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the dev frontend page and its development helpers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    npm_package(*LIVEKIT_CLIENT)  # on first use, before the page asks for it
    config = FrontendConfig(
        origin=os.environ.get("FRONTEND_ORIGIN", f"http://localhost:{args.port}"),
        sessions_url=os.environ["FRONTEND_SESSIONS_URL"],
        clerk_url=os.environ["FRONTEND_CLERK_URL"],
        clerk_secret_key=os.environ["CLERK_SECRET_KEY"],
        livekit_standin_url=os.environ.get("FRONTEND_LIVEKIT_STANDIN_URL") or None,
    )
    print(f"dev frontend on {config.origin}", flush=True)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning", lifespan="on", workers=1)


if __name__ == "__main__":
    main()
