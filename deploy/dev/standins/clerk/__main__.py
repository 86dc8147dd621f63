"""`python -m deploy.dev.standins.clerk serve --host H --port P`: the Clerk stand-in as a process."""

import argparse
import os

import uvicorn

from deploy.dev.standins.clerk.app import create_app
from deploy.dev.standins.clerk.core import StandinConfig


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.dev.standins.clerk")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve Clerk's Backend API and the control API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8790)
    serve.add_argument("--secret-key", default=os.environ.get("CLERK_SECRET_KEY", "sk_test_standin"))
    serve.add_argument("--webhook-url", default=os.environ.get("CLERK_WEBHOOK_URL") or None)
    serve.add_argument("--webhook-secret", default=os.environ.get("CLERK_WEBHOOK_SIGNING_SECRET") or None)
    args = parser.parse_args()
    config = StandinConfig(
        secret_key=args.secret_key,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        jwt_private_pem=os.environ.get("CLERK_JWT_PRIVATE_KEY") or None,
        profile_claims=os.environ.get("CLERK_STANDIN_PROFILE_CLAIMS", "on") != "off",
    )
    print(f"clerk stand-in listening on http://{args.host}:{args.port}", flush=True)
    # one worker whatever WEB_CONCURRENCY says (uvicorn reads it): the stand-in keeps its users in memory
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning", lifespan="on", workers=1)


if __name__ == "__main__":
    main()
