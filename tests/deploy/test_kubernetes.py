"""The Kubernetes manifests: they render with kustomize, validate against the Kubernetes 1.32 schemas (strict:
no unknown fields) offline, and keep the structural promises of ARCHITECTURE.md and the deploy issue."""

import base64
import copy

import kubernetes_validate
import pytest

from tests.deploy.conftest import Document, of_kind, only, selects
from tests.deploy.contract import (
    ARCHITECTURE_MD,
    EXTRA_VARIABLES,
    K8S_BASE,
    REQUIRED,
    SECRET_VARIABLES,
    SERVICES,
    VARIABLES,
    architecture_variables,
    migrate_args,
    serve_args,
)

KUBERNETES_VERSION = "1.32"
NAMESPACE = "interview"
PUBLIC_ROUTES = {
    ("/api", "Prefix", "sessions"),
    ("/webhooks/livekit", "Exact", "sessions"),
    ("/webhooks/clerk", "Exact", "identity"),
}


def validate(document: Document) -> None:
    """Against the schemas kubernetes-validate ships in its wheel (it fetches nothing)."""
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def pod_spec(document: Document) -> Document:
    return document["spec"]["template"]["spec"]


def the_container(document: Document) -> Document:
    containers = pod_spec(document)["containers"]
    assert len(containers) == 1, f"{document['metadata']['name']}: one container expected"
    return containers[0]


def workloads(documents: list[Document], service: str) -> list[Document]:
    """The service's Deployment and its migration Job."""
    return [only(documents, "Deployment", service), only(documents, "Job", f"{service}-migrate")]


@pytest.mark.parametrize("rendering", ["overlay", "base"])
def test_every_rendered_document_is_valid_kubernetes(rendering: str, request: pytest.FixtureRequest) -> None:
    documents = request.getfixturevalue(rendering)
    for document in documents:
        try:
            validate(document)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{document['kind']}/{document['metadata']['name']}: {error.message} at {error.path}")


def test_strict_validation_rejects_an_unknown_field(overlay: list[Document]) -> None:
    """The schema check is not vacuous: a misspelt field is an error."""
    deployment = copy.deepcopy(only(overlay, "Deployment", "identity"))
    the_container(deployment)["readynessProbe"] = the_container(deployment)["readinessProbe"]
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_the_overlay_renders_the_complete_set(overlay: list[Document]) -> None:
    kinds = sorted(d["kind"] for d in overlay)
    expected = ["Namespace", "Ingress"] + 2 * [
        "ConfigMap",
        "Secret",
        "Deployment",
        "Job",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ]
    assert kinds == sorted(expected)
    assert only(overlay, "Namespace", NAMESPACE)
    for document in overlay:
        if document["kind"] != "Namespace":
            assert document["metadata"].get("namespace") == NAMESPACE, document["metadata"]["name"]
    for service in SERVICES:
        for workload in workloads(overlay, service):
            image = the_container(workload)["image"]
            name, _, tag = image.rpartition(":")
            assert "/" in name, f"{image}: the overlay names a registry"
            assert tag, f"{image}: the overlay pins a tag"
            assert tag != "latest", f"{image}: the overlay pins a release, not latest"


@pytest.mark.parametrize("service", SERVICES)
def test_each_deployment_is_probed_bounded_and_unprivileged(base: list[Document], service: str) -> None:
    deployment = only(base, "Deployment", service)
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    pod = pod_spec(deployment)
    container = the_container(deployment)
    assert selects(spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"])

    # The image's entrypoint is `python -m`; the process is chosen by args, as in ARCHITECTURE.md.
    assert "command" not in container
    assert container["args"] == serve_args(service)
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]

    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    startup = container["startupProbe"]
    assert startup["httpGet"]["path"] == "/healthz"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30, "time to start before liveness"

    resources = container["resources"]
    for bound in ("requests", "limits"):
        assert set(resources[bound]) >= {"cpu", "memory"}, f"{bound} for cpu and memory"

    pod_security = pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == 10001
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    container_security = container["securityContext"]
    assert container_security["runAsNonRoot"] is True
    assert container_security["runAsUser"] == 10001
    assert container_security["readOnlyRootFilesystem"] is True
    assert container_security["allowPrivilegeEscalation"] is False
    assert container_security["capabilities"] == {"drop": ["ALL"]}
    assert pod["automountServiceAccountToken"] is False

    # SIGTERM drain: a short preStop sleep so endpoints drop the pod, then the server's own 10 s drain.
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    assert 0 < int(sleep[1]) <= 10
    assert pod["terminationGracePeriodSeconds"] >= 15 + int(sleep[1])

    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "8000"
    assert annotations["prometheus.io/path"] == "/metrics"


@pytest.mark.parametrize("service", SERVICES)
def test_each_migration_job_runs_migrate_once_and_goes_away(base: list[Document], service: str) -> None:
    job = only(base, "Job", f"{service}-migrate")
    container = the_container(job)
    assert "command" not in container
    assert container["args"] == migrate_args(service)
    assert 1 <= job["spec"]["backoffLimit"] <= 10
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}
    assert pod_spec(job)["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"requests", "limits"} <= set(container["resources"])
    # Its pods are not the service's: the Service, PDB and HPA never count them.
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    deployment = only(base, "Deployment", service)
    assert not selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)


@pytest.mark.parametrize("service", SERVICES)
def test_service_autoscaler_and_budget_target_the_deployment(overlay: list[Document], service: str) -> None:
    deployment = only(overlay, "Deployment", service)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    kube_service = only(overlay, "Service", service)
    assert selects(kube_service["spec"]["selector"], pod_labels)
    assert [(p["name"], p["port"], p["targetPort"]) for p in kube_service["spec"]["ports"]] == [("http", 8000, "http")]

    autoscaler = only(overlay, "HorizontalPodAutoscaler", service)
    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": service,
    }
    assert [m["resource"]["name"] for m in autoscaler["spec"]["metrics"] if m["type"] == "Resource"] == ["cpu"]
    assert autoscaler["spec"]["minReplicas"] == deployment["spec"]["replicas"] >= 2
    assert autoscaler["spec"]["maxReplicas"] > autoscaler["spec"]["minReplicas"]

    budget = only(overlay, "PodDisruptionBudget", service)
    assert selects(budget["spec"]["selector"]["matchLabels"], pod_labels)
    assert budget["spec"].get("maxUnavailable") == 1 or budget["spec"].get("minAvailable", 0) >= 1


def test_identity_url_names_the_identity_service(overlay: list[Document]) -> None:
    config = next(c for c in of_kind(overlay, "ConfigMap") if c["metadata"]["name"].startswith("sessions-"))
    assert config["data"]["IDENTITY_URL"] == "http://identity:8000"
    assert only(overlay, "Service", "identity")["spec"]["ports"][0]["port"] == 8000


def test_the_ingress_exposes_exactly_the_three_public_routes(overlay: list[Document]) -> None:
    (ingress,) = of_kind(overlay, "Ingress")
    assert "defaultBackend" not in ingress["spec"]
    routes = set()
    for rule in ingress["spec"]["rules"]:
        assert rule.get("host"), "the overlay names the public host"
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            routes.add((path["path"], path["pathType"], backend["name"]))
            assert not path["path"].startswith(("/internal", "/metrics", "/healthz", "/readyz", "/schema"))
            ports = {p["name"] for p in only(overlay, "Service", backend["name"])["spec"]["ports"]}
            assert backend["port"]["name"] in ports
    assert routes == PUBLIC_ROUTES
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_identity_accepts_connections_only_from_sessions_ingress_and_monitoring(
    overlay: list[Document],
) -> None:
    policy = only(overlay, "NetworkPolicy", "identity")
    identity_pods = only(overlay, "Deployment", "identity")["spec"]["template"]["metadata"]["labels"]
    sessions_pods = only(overlay, "Deployment", "sessions")["spec"]["template"]["metadata"]["labels"]
    assert selects(policy["spec"]["podSelector"]["matchLabels"], identity_pods)
    assert not selects(policy["spec"]["podSelector"]["matchLabels"], sessions_pods)
    assert "Ingress" in policy["spec"]["policyTypes"]

    peers = []
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), "a rule without `from` would admit everyone"
        assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
        for peer in rule["from"]:
            assert "ipBlock" not in peer
            peers.append(peer)
    same_namespace_pods = [p for p in peers if "namespaceSelector" not in p]
    namespaces = sorted(
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in peers
        if p not in same_namespace_pods
    )
    assert namespaces == ["ingress-nginx", "monitoring"]
    assert all("podSelector" not in p for p in peers if p not in same_namespace_pods)
    # Within the namespace: the sessions pods and nothing else (not identity's own, not the migration Jobs).
    assert len(same_namespace_pods) == 1
    selector = same_namespace_pods[0]["podSelector"]["matchLabels"]
    assert selects(selector, sessions_pods)
    assert not selects(selector, identity_pods)
    for job in of_kind(overlay, "Job"):
        assert not selects(selector, job["spec"]["template"]["metadata"]["labels"])


def test_the_network_policy_says_paths_need_the_bearer_token_too() -> None:
    text = (K8S_BASE / "identity" / "networkpolicy.yaml").read_text()
    assert "/internal/*" in text
    assert "bearer token" in text
    assert "not on HTTP paths" in text


def test_sessions_pods_accept_only_the_ingress_controller_and_monitoring(overlay: list[Document]) -> None:
    policy = only(overlay, "NetworkPolicy", "sessions")
    sessions_pods = only(overlay, "Deployment", "sessions")["spec"]["template"]["metadata"]["labels"]
    assert selects(policy["spec"]["podSelector"]["matchLabels"], sessions_pods)
    peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert sorted(p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in peers) == [
        "ingress-nginx",
        "monitoring",
    ]


def environment(documents: list[Document], container: Document) -> dict[str, Document]:
    """Every variable a container gets: `env` entries, and ConfigMap keys loaded with envFrom."""
    variables: dict[str, Document] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, "secrets are referenced key by key (secretKeyRef)"
        config = only(documents, "ConfigMap", source["configMapRef"]["name"])
        for key, value in config["data"].items():
            variables[key] = {"name": key, "value": value, "from": "ConfigMap"}
    for entry in container.get("env", []):
        variables[entry["name"]] = entry
    return variables


@pytest.mark.parametrize("service", SERVICES)
def test_environment_uses_the_contract_names_and_existing_secret_keys(overlay: list[Document], service: str) -> None:
    secrets = {
        secret["metadata"]["name"]: {
            key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()
        }
        for secret in of_kind(overlay, "Secret")
    }
    allowed = VARIABLES[service] | EXTRA_VARIABLES
    for workload in workloads(overlay, service):
        variables = environment(overlay, the_container(workload))
        name = workload["metadata"]["name"]
        assert set(variables) <= allowed, f"{name}: {sorted(set(variables) - allowed)} not in ARCHITECTURE.md"
        assert "DATABASE_URL" in variables
        for variable, entry in variables.items():
            reference = entry.get("valueFrom", {}).get("secretKeyRef")
            if variable in SECRET_VARIABLES or variable.endswith(("_SECRET", "_TOKEN", "_TOKENS")):
                assert reference, f"{name}: {variable} comes from a Secret"
            if reference:
                assert reference["key"] == variable, f"{name}: the Secret key is the variable name"
                assert reference["name"] in secrets, f"{name}: no Secret {reference['name']}"
                assert variable in secrets[reference["name"]], f"{name}: {reference['name']} lacks {variable}"
    deployment_variables = environment(overlay, the_container(only(overlay, "Deployment", service)))
    missing = REQUIRED[service] - set(deployment_variables)
    assert not missing, f"{service} cannot start without {sorted(missing)}"
    if service == "sessions":
        assert {"CLERK_JWKS_URL", "CLERK_JWT_KEY"} & set(deployment_variables)


def test_placeholder_secrets_are_marked_for_replacement(overlay: list[Document]) -> None:
    for secret in of_kind(overlay, "Secret"):
        for key, value in secret["data"].items():
            assert "REPLACE" in base64.b64decode(value).decode(), f"{secret['metadata']['name']}/{key}"


def test_the_contract_names_here_are_architecture_md_s() -> None:
    if not ARCHITECTURE_MD.is_file():
        pytest.skip(f"{ARCHITECTURE_MD} is not beside the repository")
    assert architecture_variables(ARCHITECTURE_MD.read_text()) == {
        service: set(names) for service, names in VARIABLES.items()
    }
