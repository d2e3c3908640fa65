"""deploy/kubernetes: the manifests parse and name what exists — the image's program and user,
``notifierd run``/``migrate`` options, the listener's port and probe paths, environment the
daemon reads — and the ConfigMap variant's volume holds a config that validates."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from notifierd.http.app import build_app
from notifierd.http.backend import Backend
from notifierd.validation import validate_repository
from tests.conftest import ROOT

KUBE = ROOT / "deploy" / "kubernetes"
GENERATE = KUBE / "configmap" / "generate.py"
Manifest = dict[str, Any]


@cache
def cli_options(*command: str) -> frozenset[str]:
    """The options ``notifierd COMMAND --help`` lists (failing if the command does not exist)."""
    shown = subprocess.run(
        [sys.executable, "-m", "notifierd", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, f"notifierd {' '.join(command)} --help: {shown.stderr}"
    return frozenset(re.findall(r"(?<![\w-])--[a-z][a-z-]*", shown.stdout))


def assert_real_command(argv: list[str]) -> None:
    """``notifierd <command> [--option [value]]...``: a command the CLI has, with its options."""
    assert argv[0] == "notifierd" or argv[0].endswith("/bin/notifierd"), argv
    command = [a for a in argv[1:] if not a.startswith("-")][:1]
    options = {a.split("=")[0] for a in argv if a.startswith("--")}
    assert options <= cli_options(*command), f"{argv}: not options of notifierd {command[0]}"


def served_paths() -> set[str]:
    """GET routes the HTTP listener serves."""
    app = build_app(cast(Backend, object()))  # routes only; no request reaches the backend
    return {r.resource.canonical for r in app.router.routes() if r.method == "GET" and r.resource}


def daemon_reads(name: str) -> bool:
    """Whether the package reads environment variable ``name`` (its source names it)."""
    return any(f'"{name}"' in p.read_text() for p in (ROOT / "notifierd").rglob("*.py"))


def config_references() -> set[str]:
    """The environment variables the shipped config's ``${...}`` references name."""
    text = "\n".join(p.read_text() for p in (ROOT / "config").rglob("*.yaml"))
    return set(re.findall(r"\$\{([A-Z0-9_]+)\}", text))


def load(path: Path) -> list[Manifest]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def deployment() -> Manifest:
    [found] = [d for d in load(KUBE / "base" / "deployment.yaml") if d["kind"] == "Deployment"]
    return found


def containers(kind: str = "containers") -> dict[str, Manifest]:
    return {c["name"]: c for c in deployment()["spec"]["template"]["spec"][kind]}


def env(container: Manifest) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def dockerfile_entrypoint() -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    [line] = [x for x in lines if x.startswith("ENTRYPOINT ")]
    return cast(list[str], yaml.safe_load(line.removeprefix("ENTRYPOINT ")))


def test_every_manifest_parses() -> None:
    files = sorted(KUBE.rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        for document in load(path):
            assert isinstance(document, dict), path
            assert {"apiVersion", "kind"} <= document.keys(), path


def test_two_replicas_that_a_drain_cannot_both_stop() -> None:
    assert deployment()["spec"]["replicas"] == 2
    [pdb] = load(KUBE / "base" / "pdb.yaml")
    assert pdb["spec"]["minAvailable"] == 1
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_the_daemon_runs_commands_the_cli_has_from_the_repository_image() -> None:
    daemon = containers()["notifierd"]
    assert_real_command(daemon["command"])
    assert daemon["command"][:2] == ["notifierd", "run"]
    migrate = containers("initContainers")["migrate"]
    assert_real_command(migrate["command"])
    assert migrate["command"] == ["notifierd", "migrate"]
    # The image kustomize substitutes is the one the repository's Dockerfile builds: its
    # program is notifierd, and it runs as the Dockerfile's user.
    kustomization = yaml.safe_load((KUBE / "base" / "kustomization.yaml").read_text())
    assert {i["name"] for i in kustomization["images"]} == {daemon["image"], migrate["image"]}
    assert dockerfile_entrypoint()[0] == "notifierd"
    uid = re.search(r"--uid (\d+)", (ROOT / "Dockerfile").read_text())
    assert uid is not None
    spec = deployment()["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsUser"] == int(uid[1])


def test_probes_and_ports_are_the_listeners() -> None:
    daemon = containers()["notifierd"]
    command = daemon["command"]
    listen = command[command.index("--http") + 1]
    host, port = listen.rsplit(":", 1)
    assert host == "0.0.0.0"  # reachable by the kubelet and Prometheus
    assert f"EXPOSE {port}" in (ROOT / "Dockerfile").read_text()
    [http] = daemon["ports"]
    assert (http["name"], http["containerPort"]) == ("http", int(port))
    paths = served_paths()
    probes = {k: daemon[k]["httpGet"] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    for probe in probes.values():
        assert probe["path"] in paths
        assert probe["port"] == "http"
    [service] = load(KUBE / "base" / "service.yaml")
    [service_port] = service["spec"]["ports"]
    assert (service_port["port"], service_port["targetPort"]) == (int(port), "http")
    assert (
        service["spec"]["selector"].items()
        <= deployment()["spec"]["template"]["metadata"]["labels"].items()
    )


def test_environment_is_what_the_daemon_reads() -> None:
    daemon = containers()["notifierd"]
    for name in env(daemon):
        assert daemon_reads(name), name
    # Secrets come from the Secret; its example names what the daemon and the config read.
    assert daemon["envFrom"] == [{"secretRef": {"name": "notifierd"}}]
    [secret, _git] = load(KUBE / "secret.example.yaml")
    keys = set(secret["stringData"])
    assert {"REDIS_URL", "POSTGRES_URL", "NOTIFIERD_API_TOKEN"} <= keys
    assert config_references() <= keys
    for name in keys - config_references():
        assert daemon_reads(name), name


def test_the_daemon_reads_the_directory_git_sync_keeps() -> None:
    daemon, sidecar = containers()["notifierd"], containers()["git-sync"]
    first = containers("initContainers")["config-first-sync"]
    sync = env(sidecar)
    assert env(first)["GITSYNC_ONE_TIME"] == "true"
    for name in ("GITSYNC_REPO", "GITSYNC_REF", "GITSYNC_ROOT", "GITSYNC_LINK"):
        assert env(first)[name] == sync[name], name
    link = f"{sync['GITSYNC_ROOT']}/{sync['GITSYNC_LINK']}"
    assert env(daemon)["NOTIFIERD_CONFIG"].startswith(link + "/")
    mounts = {m["name"]: m for m in daemon["volumeMounts"]}
    assert mounts["config-repo"]["mountPath"] == sync["GITSYNC_ROOT"]
    assert mounts["config-repo"]["readOnly"] is True
    # A read-only root file system: the cache the daemon writes is on a writable volume.
    assert daemon["securityContext"]["readOnlyRootFilesystem"] is True
    assert env(daemon)["NOTIFIERD_CACHE_DIR"].startswith(mounts["tmp"]["mountPath"] + "/")


def test_configmap_variant_is_generated_from_the_shipped_config(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(GENERATE), "config", str(tmp_path)], cwd=ROOT, check=True, timeout=60
    )
    for name in ("config.yaml", "volume.yaml"):
        # The committed files are what generate.py writes today (rerun it after a change).
        assert (tmp_path / name).read_text() == (KUBE / "configmap" / name).read_text()


def test_configmap_volume_holds_a_config_that_validates(tmp_path: Path) -> None:
    [configmap] = load(KUBE / "configmap" / "config.yaml")
    [patch] = load(KUBE / "configmap" / "volume.yaml")
    [volume] = patch["spec"]["template"]["spec"]["volumes"]
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    # Lay the files out as the kubelet does from the volume's items.
    mounted = tmp_path / "config"
    for item in volume["configMap"]["items"]:
        target = mounted / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(configmap["data"][item["key"]])
    assert {i["key"] for i in volume["configMap"]["items"]} == set(configmap["data"])
    assert validate_repository(mounted, with_git=False).errors == []


@pytest.mark.parametrize("variant", ["", "configmap"])
def test_kustomize_builds_each_variant(variant: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(KUBE / variant)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    documents = [d for d in yaml.safe_load_all(built.stdout) if d]
    [rendered] = [d for d in documents if d["kind"] == "Deployment"]
    spec = rendered["spec"]["template"]["spec"]
    names = {c["name"] for c in spec["containers"] + spec["initContainers"]}
    [daemon] = [c for c in spec["containers"] if c["name"] == "notifierd"]
    config_dir = env(daemon)["NOTIFIERD_CONFIG"]
    mounts = {m["mountPath"]: m["name"] for m in daemon["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    if variant == "configmap":
        assert not names & {"git-sync", "config-first-sync"}
        assert volumes[mounts[config_dir]]["configMap"]["name"] == "notifierd-config"
        assert "ConfigMap" in {d["kind"] for d in documents}
    else:
        assert {"git-sync", "config-first-sync", "migrate"} <= names
        assert "emptyDir" in volumes[mounts["/git"]]
    assert daemon["image"].startswith("registry.example.com/notifierd")
