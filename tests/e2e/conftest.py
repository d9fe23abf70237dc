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
    }
    env.update({f"{prefix}_{k}": v for k, v in extra.items()})
    return env
