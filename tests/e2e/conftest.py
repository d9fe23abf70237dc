"""End-to-end checks of the owl binary: real processes, real PostgreSQL, real HTTP."""
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

DEV_KEY = "ow_dev_seed_key_do_not_use_in_production"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException as error:
            last = error
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


@pytest.fixture(scope="session")
def owl() -> str:
    path = os.environ.get("OWL_BINARY")
    if not path:
        pytest.fail("OWL_BINARY is not set: run scripts/test")
    return path


@pytest.fixture(scope="session")
def server_url() -> urllib.parse.ParseResult:
    raw = os.environ.get("OWL_TEST_DATABASE_URL")
    if not raw:
        pytest.fail("OWL_TEST_DATABASE_URL is not set: run scripts/test")
    return urllib.parse.urlparse(raw)


@pytest.fixture
def fresh_database(server_url):
    """A new, empty database on the test cluster; returns its URL."""
    name = "owl_e2e_" + uuid.uuid4().hex[:12]
    admin = server_url._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    return server_url._replace(path="/" + name).geturl()


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", url, "-At", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Service:
    """An owl process with its environment; stopped with SIGTERM at the end of the test."""

    def __init__(self, owl, args, env):
        self.args = [owl] + args
        self.env = {**os.environ, **env}
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return self

    def stop(self, timeout=30):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def output(self) -> str:
        if self.process and self.process.stdout and self.process.poll() is not None:
            return self.process.stdout.read()
        return ""


@pytest.fixture
def services():
    started = []

    def start(owl, args, env):
        service = Service(owl, args, env).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def run_owl(owl, args, env, check=True):
    return subprocess.run([owl] + args, env={**os.environ, **env}, capture_output=True, text=True, check=check, timeout=120)


def service_env(prefix: str, database_url: str, port: int, **extra) -> dict:
    env = {
        f"{prefix}_DATABASE_URL": database_url,
        f"{prefix}_LISTEN": f"127.0.0.1:{port}",
        f"{prefix}_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        f"{prefix}_LOG_LEVEL": "warning",
        f"{prefix}_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
    }
    env.update({f"{prefix}_{k}": v for k, v in extra.items()})
    return env


def paging_tenant(owl, database_url, services, port):
    """A tenant whose default policy texts and calls its one on-call engineer, with the API running.
    Returns (API base URL, headers with the tenant's key, the policy, the environment)."""
    env = service_env("NIGHTOWL", database_url, port)
    created = run_owl(owl, ["nightowl", "tenant", "create", "--slug", "initech", "--name", "Initech"], env)
    key = next(line.split(": ", 1)[1] for line in created.stdout.splitlines() if "API key" in line)
    services(owl, ["nightowl", "--mode", "api"], env)
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"X-API-Key": key}
    wait_for(lambda: requests.get(f"{base}/ping", headers=headers, timeout=2).ok)
    user = requests.post(f"{base}/users", headers=headers, timeout=10,
                         json={"email": "pat@initech.example", "display_name": "Pat", "role": "engineer", "phone": "+14155550100"}).json()
    roster = requests.post(f"{base}/rosters", headers=headers, timeout=10, json={
        "name": "Ops", "timezone": "America/New_York", "rotation_type": "weekly", "handoff_time": "09:00",
        "start_date": "2024-01-01", "members": [user["id"]]}).json()
    policy = requests.post(f"{base}/escalation-policies", headers=headers, timeout=10, json={
        "name": "Default", "is_default": True, "tiers": [
            {"timeout_minutes": 5, "targets": [{"type": "roster_primary", "roster_id": roster["id"]}], "methods": ["sms", "phone"]}]})
    assert policy.status_code == 201, policy.text
    return base, headers, policy.json(), env


def metric_samples(text: str) -> dict:
    """Prometheus text format: {(name, frozenset of label pairs): value}, and the families' types under (name, None)."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            samples[(name, None)] = kind
            continue
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, rest = series.partition("{")
        labels = frozenset(tuple(pair.split("=", 1)) for pair in rest.rstrip("}").split(",") if pair) if rest else frozenset()
        samples[(name, frozenset((k, v.strip('"')) for k, v in labels))] = float(value)
    return samples
