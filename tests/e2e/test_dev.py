import os
import signal
import subprocess
import time

import requests

from conftest import DEV_KEY, wait_for


def test_owl_dev_serves_all_three_services_and_stops_postgres(owl, tmp_path):
    # The cluster folder must be reachable by the unprivileged PostgreSQL user, so it lives in the project.
    data_dir = os.path.join(os.getcwd(), ".owl-test", "dev")
    process = subprocess.Popen([owl, "dev", "--data-dir", data_dir, "--reset"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        ping = wait_for(lambda: requests.get("http://127.0.0.1:8080/api/v1/ping", headers={"X-API-Key": DEV_KEY}, timeout=2).ok, timeout=90)
        assert ping
        for port in (8080, 8081, 8082):
            assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
            me = requests.get(f"http://127.0.0.1:{port}/api/v1/ping", headers={"X-API-Key": DEV_KEY}, timeout=5).json()
            assert me["tenant"] == "acme" and me["role"] == "admin"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert DEV_KEY in output and "http://127.0.0.1:8080" in output
    assert not os.path.exists(os.path.join(data_dir, "pgdata", "postmaster.pid")), "PostgreSQL is stopped"

    # A second start reuses the data.
    process = subprocess.Popen([owl, "dev", "--data-dir", data_dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: requests.get("http://127.0.0.1:8080/api/v1/ping", headers={"X-API-Key": DEV_KEY}, timeout=2).ok, timeout=90)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 0
