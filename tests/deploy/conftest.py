"""Renders the Kubernetes manifests once per run with `kubectl kustomize` (kustomize built into kubectl)."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.contract import K8S_BASE, K8S_OVERLAY

Document = dict[str, Any]


def kustomize(directory: Path) -> list[Document]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: it renders the kustomize manifests (`kubectl kustomize DIR`)")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    documents = [document for document in yaml.safe_load_all(result.stdout) if document]
    assert documents, f"kubectl kustomize {directory} rendered nothing"
    return documents


@pytest.fixture(scope="session")
def overlay() -> list[Document]:
    """The example overlay: the complete set one environment deploys."""
    return kustomize(K8S_OVERLAY)


@pytest.fixture(scope="session")
def base() -> list[Document]:
    return kustomize(K8S_BASE)


def only(documents: list[Document], kind: str, name: str) -> Document:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected exactly one {kind}/{name}, found {len(matches)}"
    return matches[0]


def of_kind(documents: list[Document], kind: str) -> list[Document]:
    return [d for d in documents if d["kind"] == kind]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """Whether a matchLabels selector (non-empty) selects an object with these labels."""
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())
