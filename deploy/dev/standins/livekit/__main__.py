"""`python -m deploy.dev.standins.livekit serve --host H --port P`: the LiveKit stand-in as a process."""

import argparse
import os

import uvicorn

from deploy.dev.standins.livekit.app import StandinConfig, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.dev.standins.livekit")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve RoomService (Twirp), the control API, and send webhooks")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7880)
    serve.add_argument("--api-key", default=os.environ.get("LIVEKIT_API_KEY", "devkey"))
    serve.add_argument("--api-secret", default=os.environ.get("LIVEKIT_API_SECRET", "secret"))
    serve.add_argument("--webhook-url", default=os.environ.get("LIVEKIT_WEBHOOK_URL") or None)
    args = parser.parse_args()
    config = StandinConfig(api_key=args.api_key, api_secret=args.api_secret, webhook_url=args.webhook_url)
    print(f"livekit stand-in listening on http://{args.host}:{args.port}", flush=True)
    # one worker whatever WEB_CONCURRENCY says (uvicorn reads it): the stand-in keeps its rooms in memory
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning", lifespan="on", workers=1)


if __name__ == "__main__":
    main()
