"""`python -m deploy.dev.standins.storage serve --host H --port P`: moto's S3 server as a process, the bucket
(`RECORDINGS_S3_BUCKET`, default `recordings`) created with versioning on before it is reported ready (its
readiness path is the bucket's versioning: 404 until then)."""

import argparse
import logging
import os
import signal
import threading

import boto3
from moto.server import ThreadedMotoServer

from deploy.dev.standins.storage import DEV_ACCESS_KEY, DEV_SECRET


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.dev.standins.storage")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve S3 on loopback with the recordings' bucket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
    serve.add_argument("--bucket", default=os.environ.get("RECORDINGS_S3_BUCKET", "recordings"))
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        parser.error("the storage stand-in serves loopback only (--host 127.0.0.1)")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{args.host}:{args.port}",
        region_name="us-east-1",
        aws_access_key_id=DEV_ACCESS_KEY,
        aws_secret_access_key=DEV_SECRET,
    )
    s3.create_bucket(Bucket=args.bucket)
    s3.put_bucket_versioning(Bucket=args.bucket, VersioningConfiguration={"Status": "Enabled"})
    print(f"storage stand-in (moto S3) listening on http://{args.host}:{args.port}, bucket {args.bucket}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
