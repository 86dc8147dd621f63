"""The committed OpenAPI documents in deploy/openapi/ are exactly what the code serves, and what a client
generated from them expects of the services' errors is what they send."""

import re
import subprocess
from pathlib import Path

import pytest

from deploy.dev.tools import debian_tool, npm_package
from deploy.openapi import OPENAPI_DIR, documents, render


@pytest.mark.parametrize("service", ["identity", "sessions"])
def test_committed_openapi_document_matches_the_code(service: str):
    committed = OPENAPI_DIR / f"{service}.json"

    assert committed.exists(), "run `python -m deploy.openapi` and commit deploy/openapi/"
    assert committed.read_text() == render(documents()[service]), (
        f"deploy/openapi/{service}.json is stale: run `python -m deploy.openapi` and commit the result"
    )


def test_documents_describe_the_contract_paths():
    paths = {service: set(document["paths"]) for service, document in documents().items()}

    assert {
        "/internal/users/ensure",
        "/internal/users/{clerk_id}",
        "/internal/users/changes",
        "/webhooks/clerk",
    } <= paths["identity"]
    assert {
        "/api/livekit/connection-details",
        "/api/livekit/token",
        "/api/interviews",
        "/api/interviews/{interview_id}",
        "/webhooks/livekit",
    } <= paths["sessions"]


OPENAPI_TYPESCRIPT = ("openapi-typescript", "7.13.0")


def test_a_generated_typescript_client_types_the_start_routes_refusals_as_problem_details(tmp_path: Path):
    """What a frontend's generator (openapi-typescript) makes of the sessions document: each refusal of a start
    is typed as the RFC 9457 problem the service sends, under its media type."""
    package = npm_package(*OPENAPI_TYPESCRIPT)
    generated = tmp_path / "sessions.ts"
    subprocess.run(
        [
            debian_tool("node", "nodejs"),
            str(package / "bin" / "cli.js"),
            str(OPENAPI_DIR / "sessions.json"),
            "-o",
            str(generated),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    source = generated.read_text()

    problem = re.search(r"ProblemDetails: \{(.*?)\n        \};", source, re.DOTALL)
    assert problem is not None, "no ProblemDetails schema"
    for field in ("type: string;", "title: string;", "status: number;", "detail: string;", "errors?:"):
        assert field in problem.group(1)
    for route in ('"/api/livekit/token"', '"/api/livekit/connection-details"'):
        operation = source.split(f"    {route}: {{", 1)[1].split("\n    };", 1)[0]
        assert "operations[" in operation
    for status in (401, 403, 422, 429, 503):
        assert re.search(
            rf'{status}: \{{\s*headers: \{{[^}}]*\}};\s*content: \{{\s*"application/problem\+json": '
            r'components\["schemas"\]\["ProblemDetails"\];',
            source,
        ), f"{status} is not typed as application/problem+json ProblemDetails"
