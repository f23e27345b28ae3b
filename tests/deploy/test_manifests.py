"""The deployment files agree with the code.

Nothing here needs Docker or a cluster: the compose file, the Kubernetes manifests and the
Dockerfile are read as text and checked against what the code accepts — the ``pulse`` argument
parser, the environment variables the pydantic-settings classes read (found by introspection), the
ports those settings resolve to, and the routes the FastAPI apps serve.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from unittest import mock
from urllib.parse import SplitResult, urlsplit

import pytest
from fastapi import FastAPI
from pydantic import AliasChoices
from starlette.routing import Match

from services.api.app import create_app as create_api_app
from services.api.settings import ApiSettings
from services.cli import build_parser
from services.ingest.app import create_app as create_ingest_app
from services.ingest.settings import IngestSettings
from services.monitor.settings import MonitorSettings
from services.notifier.settings import NotifierSettings
from services.settings import SharedSettings
from services.storage.db import normalise_url

yaml = pytest.importorskip("yaml", reason="PyYAML reads the compose file and the manifests")

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S = DEPLOY / "k8s"

S = TypeVar("S", bound=SharedSettings)

# The settings class each `pulse` subcommand reads; any other subcommand reads only the shared ones.
SETTINGS_BY_COMMAND: dict[str, type[SharedSettings]] = {
    "ingest": IngestSettings,
    "backfill": IngestSettings,
    "import": IngestSettings,
    "monitor": MonitorSettings,
    "api": ApiSettings,
    "notify": NotifierSettings,
}
# The long-running services: the settings fields holding the address each one listens on.
LISTEN_FIELDS = {
    "ingest": ("host", "port"),
    "api": ("host", "port"),
    "monitor": ("metrics_host", "metrics_port"),
    "notify": ("metrics_host", "metrics_port"),
}
ALL_INTERFACES = "0.0.0.0"
# Enough settings to build the apps without touching a broker or a database file.
OFFLINE = {"DATABASE_URL": "sqlite://", "KAFKA_BOOTSTRAP_SERVERS": "unreachable.invalid:9092"}
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


# --- what the code accepts ---------------------------------------------------------------------


def settings_for(command: str) -> type[SharedSettings]:
    return SETTINGS_BY_COMMAND.get(command, SharedSettings)


def env_names(settings: type[SharedSettings]) -> set[str]:
    """The environment variables a settings class reads: its prefix plus each field name, or the
    field's aliases where it declares them."""
    prefix = settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def effective(settings: type[S], env: Mapping[str, str]) -> S:
    """The settings a process started with exactly ``env`` would see."""
    with mock.patch.dict(os.environ, env, clear=True):
        return settings()


def parse_command(args: list[str]) -> argparse.Namespace:
    try:
        return build_parser().parse_args(args)
    except SystemExit as exc:
        raise AssertionError(f"`pulse {shlex.join(args)}` is not a valid pulse command") from exc


def listen_address(command: str, env: Mapping[str, str]) -> tuple[str, int]:
    host_field, port_field = LISTEN_FIELDS[command]
    settings = effective(settings_for(command), env)
    return str(getattr(settings, host_field)), int(getattr(settings, port_field))


@cache
def http_app(command: str) -> FastAPI:
    if command == "ingest":
        return create_ingest_app(effective(IngestSettings, OFFLINE))
    return create_api_app(effective(ApiSettings, OFFLINE))


def serves(command: str, path: str) -> bool:
    """Whether a GET of ``path`` reaches a route. The monitor's metrics server (prometheus_client)
    answers every path with the metrics; its probes and scrapes use /metrics."""
    if command == "monitor":
        return path == "/metrics"
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in http_app(command).routes)


def assert_env_read(where: str, command: str, env: Mapping[str, str]) -> None:
    unread = set(env) - env_names(settings_for(command))
    assert not unread, f"{where} sets {sorted(unread)}, which `pulse {command}` does not read"


def test_settings_map_names_real_commands() -> None:
    parser = build_parser()
    subcommands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert set(SETTINGS_BY_COMMAND) <= set(subcommands.choices)
    assert set(LISTEN_FIELDS) <= set(subcommands.choices)


@pytest.mark.parametrize("command", ["ingest", "api"])
def test_apps_build_without_a_broker(command: str) -> None:
    assert all(serves(command, path) for path in ("/healthz", "/readyz", "/metrics"))
    assert not serves(command, "/no-such-route")


# --- compose -----------------------------------------------------------------------------------

INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}``, resolved to its default."""
    return INTERPOLATION.sub(lambda match: match.group(2) or "", value)


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def pulse_services() -> dict[str, dict[str, Any]]:
    """The services built from deploy/Dockerfile."""
    return {
        name: service
        for name, service in compose_services().items()
        if isinstance(service.get("build"), dict)
        and service["build"].get("dockerfile") == "deploy/Dockerfile"
    }


def compose_args(service: Mapping[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def compose_command(service: Mapping[str, Any]) -> str:
    command: str = parse_command(compose_args(service)).command
    return command


def compose_env(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    pairs = raw.items() if isinstance(raw, dict) else (item.split("=", 1) for item in raw)
    return {str(key): interpolate(str(value)) for key, value in pairs}


def declared_ports(service: Mapping[str, Any]) -> set[int]:
    """Container ports a service publishes or exposes."""
    ports: set[int] = set()
    for entry in service.get("ports", []):
        target = entry["target"] if isinstance(entry, dict) else str(entry).split(":")[-1]
        ports.add(int(str(target).split("/")[0]))
    ports.update(int(str(entry).split("/")[0]) for entry in service.get("expose", []))
    return ports


def services_running(command: str) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in pulse_services().items()
        if compose_command(service) == command
    }


def address_of(url: SplitResult) -> tuple[str, int]:
    return str(url.hostname), int(url.port or 0)


def assert_compose_address(where: str, address: tuple[str, int]) -> None:
    host, port = address
    services = compose_services()
    assert host in services, f"{where}: {host} is not a compose service"
    assert port in declared_ports(services[host]), f"{where}: {host} does not declare port {port}"


def test_compose_services_run_real_pulse_commands() -> None:
    services = pulse_services()
    for service in services.values():
        parse_command(compose_args(service))
    assert {"ingest", "monitor", "api"} <= {compose_command(s) for s in services.values()}


def test_compose_builds_one_image_from_the_repository() -> None:
    services = pulse_services()
    assert len({service["image"] for service in services.values()}) == 1
    for service in services.values():
        context = (COMPOSE_FILE.parent / service["build"]["context"]).resolve()
        assert context == ROOT
        assert (context / service["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_compose_environment_is_read_by_the_settings() -> None:
    for name, service in pulse_services().items():
        assert_env_read(f"compose service {name}", compose_command(service), compose_env(service))


def test_compose_services_listen_where_they_are_reached() -> None:
    for name, service in pulse_services().items():
        command = compose_command(service)
        if command not in LISTEN_FIELDS:
            continue
        host, port = listen_address(command, compose_env(service))
        assert host == ALL_INTERFACES, (
            f"{name} listens on {host}, unreachable from other containers"
        )
        assert port in declared_ports(service), f"{name} listens on {port}, not a declared port"
        check = service["healthcheck"]["test"]
        probe = re.search(
            r"http://[^/'\"\s]+:(\d+)(/[^'\"\s]*)",
            check if isinstance(check, str) else " ".join(check),
        )
        assert probe, f"{name}'s healthcheck requests no URL"
        assert int(probe.group(1)) == port, f"{name}'s healthcheck asks port {probe.group(1)}"
        assert serves(command, probe.group(2)), f"{name} has no route {probe.group(2)}"


def test_compose_monitor_workers_form_one_consumer_group() -> None:
    workers = services_running("monitor")
    assert len(workers) >= 2
    settings = {name: effective(MonitorSettings, compose_env(w)) for name, w in workers.items()}
    assert len({s.app_id for s in settings.values()}) == 1, "workers of different Faust apps"
    partitions = {s.partitions for s in settings.values()}
    assert len(partitions) == 1
    assert len(workers) <= min(partitions), "more monitor workers than partitions stand idle"
    data_volumes = {
        name: {
            volume.split(":")[0]
            for volume in worker.get("volumes", [])
            if volume.split(":")[1] == settings[name].data_dir
        }
        for name, worker in workers.items()
    }
    assert all(len(volumes) == 1 for volumes in data_volumes.values()), data_volumes
    assert len(set.union(*data_volumes.values())) == len(workers), "workers share a data dir"
    for ingest in services_running("ingest").values():
        assert effective(IngestSettings, compose_env(ingest)).partitions in partitions


def test_compose_services_agree_on_broker_database_and_topics() -> None:
    shared = [
        effective(SharedSettings, compose_env(service))
        for service in pulse_services().values()
        if compose_command(service) in SETTINGS_BY_COMMAND
    ]
    assert len({(s.events_topic, s.dead_letter_topic) for s in shared}) == 1
    for settings in shared:
        for server in settings.kafka_bootstrap_servers.split(","):
            address = address_of(urlsplit(f"kafka://{server.strip()}"))
            assert_compose_address("KAFKA_BOOTSTRAP_SERVERS", address)
        database = normalise_url(settings.database_url)
        assert database.drivername == "postgresql+psycopg"
        assert_compose_address("DATABASE_URL", (str(database.host), int(database.port or 0)))


def test_compose_dependencies_wait_for_health() -> None:
    services = compose_services()
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on without conditions"
        for dependency, condition in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] == "service_healthy"
            assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
    for name, service in pulse_services().items():
        if compose_command(service) in LISTEN_FIELDS:
            assert "healthcheck" in service, f"{name} has no healthcheck"


def bind_mounts(service: Mapping[str, Any]) -> Iterator[tuple[Path, PurePosixPath]]:
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("."):
            yield (COMPOSE_FILE.parent / source).resolve(), PurePosixPath(target)


def host_path(service: Mapping[str, Any], container_path: str) -> Path:
    path = PurePosixPath(container_path)
    for source, target in bind_mounts(service):
        if path.is_relative_to(target):
            return source / path.relative_to(target)
    raise AssertionError(f"{container_path} is not in a bind mount")


@pytest.mark.parametrize("name", ["prometheus", "alertmanager"])
def test_compose_mounts_the_monitoring_configuration(name: str) -> None:
    service = compose_services()[name]
    for source, _ in bind_mounts(service):
        assert source.is_relative_to(DEPLOY), f"{name} mounts {source} from outside deploy/"
        if not source.exists():
            pytest.skip(f"{source.relative_to(ROOT)} is not written yet")
    config_files = [arg.split("=", 1)[1] for arg in service["command"] if "config.file=" in arg]
    assert config_files
    for config_file in config_files:
        assert host_path(service, config_file).is_file()


def test_prometheus_scrapes_the_compose_services() -> None:
    config_file = DEPLOY / "prometheus" / "prometheus.yml"
    if not config_file.exists():
        pytest.skip("deploy/prometheus/prometheus.yml is not written yet")
    config = yaml.safe_load(config_file.read_text())
    scraped: set[tuple[str, int]] = set()
    for job in config.get("scrape_configs", []):
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = address_of(urlsplit(f"//{target}"))
                # Prometheus scraping itself.
                address = (
                    ("prometheus", port) if host in ("localhost", "127.0.0.1") else (host, port)
                )
                assert_compose_address(f"prometheus job {job['job_name']}", address)
                scraped.add(address)
    for alerting in config.get("alerting", {}).get("alertmanagers", []):
        for static in alerting.get("static_configs", []):
            for target in static["targets"]:
                assert_compose_address("prometheus alerting", address_of(urlsplit(f"//{target}")))
    for name, service in pulse_services().items():
        command = compose_command(service)
        if command in LISTEN_FIELDS:
            port = listen_address(command, compose_env(service))[1]
            assert (name, port) in scraped, f"prometheus does not scrape {name}:{port}"


def test_grafana_provisioning_agrees_with_compose() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    providers = provisioning / "dashboards" / "dashboards.yml"
    datasources = provisioning / "datasources" / "prometheus.yml"
    if not providers.exists() or not datasources.exists():
        pytest.skip("deploy/grafana provisioning is not written yet")
    grafana = compose_services()["grafana"]
    for provider in yaml.safe_load(providers.read_text())["providers"]:
        assert host_path(grafana, provider["options"]["path"]).is_dir()
    for datasource in yaml.safe_load(datasources.read_text())["datasources"]:
        address = address_of(urlsplit(datasource["url"]))
        assert_compose_address(f"datasource {datasource['name']}", address)


# --- Kubernetes --------------------------------------------------------------------------------


@cache
def k8s_objects() -> tuple[tuple[Path, dict[str, Any]], ...]:
    """Every object in deploy/k8s (what `kubectl apply -f deploy/k8s/` applies, in that order)
    and in deploy/k8s/examples."""
    files = sorted(K8S.glob("*.yaml")) + sorted((K8S / "examples").glob("*.yaml"))
    return tuple(
        (path, doc) for path in files for doc in yaml.safe_load_all(path.read_text()) if doc
    )


def k8s_named(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_objects() if doc["kind"] == kind}


def workloads() -> list[dict[str, Any]]:
    return [doc for _, doc in k8s_objects() if doc["kind"] in WORKLOAD_KINDS]


def pulse_image() -> str:
    image = next(iter(pulse_services().values()))["image"]
    return str(image).rsplit(":", 1)[0].rsplit("/", 1)[-1]


def pulse_containers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for workload in workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            if container["image"].rsplit(":", 1)[0].rsplit("/", 1)[-1] == pulse_image():
                yield workload, container


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    configmaps, secrets = k8s_named("ConfigMap"), k8s_named("Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in configmaps, f"no ConfigMap {name}"
            env.update({key: str(value) for key, value in configmaps[name]["data"].items()})
        else:
            name = source["secretRef"]["name"]
            assert name in secrets, f"no Secret {name}"
            secret = secrets[name]
            env.update({key: str(value) for key, value in secret.get("stringData", {}).items()})
            env.update(
                {
                    key: base64.b64decode(value).decode()
                    for key, value in secret.get("data", {}).items()
                }
            )
    env.update({item["name"]: str(item.get("value", "")) for item in container.get("env", [])})
    return env


def container_command(container: Mapping[str, Any]) -> str:
    assert "command" not in container, "the image's entry point is `pulse`; set args only"
    command: str = parse_command([str(arg) for arg in container["args"]]).command
    return command


def container_port(container: Mapping[str, Any], port: int | str) -> int:
    for declared in container.get("ports", []):
        if port in (declared["containerPort"], declared.get("name")):
            return int(declared["containerPort"])
    raise AssertionError(f"{container['name']} declares no port {port}")


def test_k8s_objects_are_well_formed_and_namespaced() -> None:
    objects = k8s_objects()
    assert objects
    namespaces = k8s_named("Namespace")
    assert len(namespaces) == 1
    (namespace,) = namespaces
    assert objects[0][1]["kind"] == "Namespace", "kubectl applies the namespace first"
    for path, doc in objects:
        assert {"apiVersion", "kind", "metadata"} <= set(doc), path
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, (path, doc["metadata"]["name"])


def test_k8s_secret_example_is_not_applied_with_the_manifests() -> None:
    applied = {doc["kind"] for path, doc in k8s_objects() if path.parent == K8S}
    assert "Secret" not in applied


def test_k8s_containers_run_real_commands_with_settings_they_read() -> None:
    commands = set()
    for workload, container in pulse_containers():
        command = container_command(container)
        commands.add(command)
        env = container_env(container)
        assert_env_read(f"{workload['metadata']['name']}/{container['name']}", command, env)
        normalise_url(effective(SharedSettings, env).database_url)
    assert {"ingest", "monitor", "api"} <= commands


def test_k8s_containers_listen_probe_and_get_scraped_on_their_ports() -> None:
    for workload, container in pulse_containers():
        command = container_command(container)
        name = workload["metadata"]["name"]
        host, port = listen_address(command, container_env(container))
        assert host == ALL_INTERFACES, f"{name} listens on {host}"
        assert port in {p["containerPort"] for p in container["ports"]}
        for probe_kind in ("readinessProbe", "livenessProbe"):
            probe = container[probe_kind]["httpGet"]
            assert serves(command, probe["path"]), f"{name}: no route {probe['path']}"
            assert container_port(container, probe["port"]) == port, f"{name} {probe_kind}"
        if command in ("ingest", "api"):
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert int(annotations["prometheus.io/port"]) == port
        assert serves(command, annotations["prometheus.io/path"])


def test_k8s_services_select_workloads_and_their_ports() -> None:
    for name, service in k8s_named("Service").items():
        selector = service["spec"]["selector"]
        selected = [
            w
            for w in workloads()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert selected, f"Service {name} selects no workload"
        for workload in selected:
            assert selector.items() <= workload["spec"]["selector"]["matchLabels"].items()
            (container,) = workload["spec"]["template"]["spec"]["containers"]
            for port in service["spec"]["ports"]:
                container_port(container, port.get("targetPort", port["port"]))


def test_k8s_monitor_scales_within_the_partitions() -> None:
    partitions: dict[str, set[int]] = {"ingest": set(), "monitor": set()}
    for workload, container in pulse_containers():
        command = container_command(container)
        if command == "monitor":
            settings = effective(MonitorSettings, container_env(container))
            assert workload["spec"]["replicas"] <= settings.partitions, "idle monitor replicas"
            partitions["monitor"].add(settings.partitions)
            if workload["kind"] == "StatefulSet":
                assert workload["spec"]["serviceName"] in k8s_named("Service")
        elif command == "ingest":
            partitions["ingest"].add(effective(IngestSettings, container_env(container)).partitions)
    assert len(partitions["monitor"]) == 1
    assert partitions["ingest"] == partitions["monitor"]


# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_and_runs_pulse_as_non_root() -> None:
    stages: list[str] = []
    final_user = None
    entrypoint = None
    exposed: set[int] = set()
    for instruction, arguments in dockerfile_instructions():
        words = arguments.split()
        if instruction == "FROM":
            assert len(words) == 3 and words[1].upper() == "AS", arguments
            stages.append(words[2])
            final_user = None
        elif instruction == "COPY" and words[0].startswith("--from="):
            assert words[0].removeprefix("--from=") in stages[:-1], arguments
        elif instruction == "USER":
            final_user = words[0].split(":")[0]
        elif instruction == "ENTRYPOINT":
            entrypoint = json.loads(arguments)
        elif instruction == "EXPOSE":
            exposed.update(int(word) for word in words)
    assert len(stages) >= 2
    assert final_user not in (None, "root", "0"), "the runtime stage runs as root"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint == ["pulse"] and "pulse" in scripts
    defaults = {
        int(settings_for(command).model_fields[port_field].default)
        for command, (_, port_field) in LISTEN_FIELDS.items()
    }
    assert exposed == defaults


def test_dockerfile_copies_what_the_context_sends() -> None:
    reincluded = {
        line.removeprefix("!").strip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for instruction, arguments in dockerfile_instructions():
        words = arguments.split()
        if instruction != "COPY" or words[0].startswith("--"):
            continue
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source.strip("/") in reincluded, f"COPY {source}: excluded by .dockerignore"
