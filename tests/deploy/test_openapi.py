"""The committed OpenAPI documents in deploy/openapi/ are exactly what the code serves."""

import pytest

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
