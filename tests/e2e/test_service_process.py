import asyncio
import socket
import threading
import time

import pytest
import requests
import yaml
from openapi_spec_validator import validate

from conftest import DEV_KEY, free_port, psql, run_owl, service_env, wait_for


@pytest.mark.parametrize("service", ["nightowl", "bookowl", "ticketowl"])
def test_openapi_document_is_valid_and_served(owl, fresh_database, services, service):
    prefix = service.upper()
    port = free_port()
    env = service_env(prefix, fresh_database, port)
    run_owl(owl, [service, "--mode", "migrate"], env)
    services(owl, [service, "--mode", "api"], env)
    response = wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/api/docs/openapi.yaml", timeout=2))
    assert response.status_code == 200
    document = yaml.safe_load(response.text)
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/ping" in document["paths"]


def test_invalid_configuration_names_the_variable_and_exits_2(owl, fresh_database):
    port = free_port()
    for override, variable in [
        ({"NIGHTOWL_LISTEN": "not-a-port"}, "NIGHTOWL_LISTEN"),
        ({"NIGHTOWL_DATABASE_URL": ""}, "NIGHTOWL_DATABASE_URL"),
        ({"NIGHTOWL_BODY_LIMIT_BYTES": "lots"}, "NIGHTOWL_BODY_LIMIT_BYTES"),
        ({"NIGHTOWL_ENCRYPTION_KEY": "", "NIGHTOWL_DEV_MODE": "false"}, "NIGHTOWL_ENCRYPTION_KEY"),
        ({"NIGHTOWL_MODE": "party"}, "NIGHTOWL_MODE"),
    ]:
        env = {**service_env("NIGHTOWL", fresh_database, port), **override}
        result = run_owl(owl, ["nightowl"], env, check=False)
        assert result.returncode == 2, (override, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and variable in lines[0], result.stderr
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "no port is bound"


def test_tenant_commands(owl, fresh_database, services):
    port = free_port()
    env = service_env("NIGHTOWL", fresh_database, port)
    created = run_owl(owl, ["nightowl", "tenant", "create", "--slug", "globex", "--name", "Globex"], env)
    key = next(line.split(": ", 1)[1] for line in created.stdout.splitlines() if "API key" in line)
    again = run_owl(owl, ["nightowl", "tenant", "create", "--slug", "globex", "--name", "Globex"], env)
    assert "already exists" in again.stdout and "ow_" not in again.stdout
    listed = run_owl(owl, ["nightowl", "tenant", "list"], env)
    assert listed.stdout.startswith("globex\tGlobex")
    bad = run_owl(owl, ["nightowl", "tenant", "create", "--slug", "Bad-Slug", "--name", "X"], env, check=False)
    assert bad.returncode != 0
    assert psql(fresh_database, "SELECT count(*) FROM public.tenants") == "1"

    services(owl, ["nightowl", "--mode", "api"], env)
    ping = wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/api/v1/ping", headers={"X-API-Key": key}, timeout=2))
    assert ping.json()["tenant"] == "globex" and ping.json()["role"] == "admin"


def test_a_clean_stop_loses_no_audit_entry(owl, fresh_database, services):
    port = free_port()
    env = service_env("NIGHTOWL", fresh_database, port)
    run_owl(owl, ["nightowl", "--mode", "seed"], env)
    api = services(owl, ["nightowl", "--mode", "api"], env)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).ok)
    for i in range(20):
        r = requests.post(f"{base}/api/v1/users", headers={"X-API-Key": DEV_KEY},
                          json={"email": f"u{i}@acme.example", "display_name": f"User {i}", "role": "engineer"}, timeout=5)
        assert r.status_code == 201, r.text
    assert api.stop() == 0
    assert psql(fresh_database, "SELECT count(*) FROM tenant_acme.audit_log WHERE action = 'user.create'") == "20"


class Forwarder:
    """A TCP forwarder that stands in for the database server: stopped, the database is 'down'."""

    def __init__(self, listen_port, target_port):
        self.listen_port, self.target_port = listen_port, target_port
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader, writer):
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    def start(self):
        async def start():
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)
        asyncio.run_coroutine_threadsafe(start(), self.loop).result(5)

    def close(self):
        async def shutdown():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_api_starts_with_the_database_down_and_recovers(owl, fresh_database, server_url, services):
    # Prepare the data through the real server, then point the API at a port where nothing listens yet.
    port = free_port()
    run_owl(owl, ["nightowl", "--mode", "seed"], service_env("NIGHTOWL", fresh_database, port))
    proxy_port = free_port()
    database_name = fresh_database.rsplit("/", 1)[1]
    down_url = server_url._replace(netloc=f"{server_url.username}@127.0.0.1:{proxy_port}", path=f"/{database_name}").geturl()
    services(owl, ["nightowl", "--mode", "api"], service_env("NIGHTOWL", down_url, port))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200)
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["database"] == "down"

    forwarder = Forwarder(proxy_port, server_url.port)
    try:
        forwarder.start()
        wait_for(lambda: requests.get(f"{base}/readyz", timeout=10).status_code == 200, timeout=60)
        ping = requests.get(f"{base}/api/v1/ping", headers={"X-API-Key": DEV_KEY}, timeout=10)
        assert ping.status_code == 200 and ping.json()["tenant"] == "acme"
    finally:
        forwarder.close()
