"""Property-based fuzzing of NightOwl's API from its own OpenAPI document (schemathesis): whatever a client sends,
the answer is never a 5xx and always matches the documented schema for its status. Seeded and deterministic, so a
failure reproduces; `st run` with the printed command replays one."""
import shutil
import subprocess
import sys

from conftest import free_port, paging_tenant


def test_no_input_makes_nightowl_fail_or_break_its_schema(owl, fresh_database, services, tmp_path):
    port = free_port()
    base, headers, _, _ = paging_tenant(owl, fresh_database, services, port)
    st = shutil.which("st") or shutil.which("schemathesis")
    command = [st] if st else [sys.executable, "-m", "schemathesis.cli"]
    result = subprocess.run(command + [
        "run", f"http://127.0.0.1:{port}/api/docs/openapi.yaml",
        "-H", f"X-API-Key: {headers['X-API-Key']}",
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples", "10", "--seed", "20261124", "--generation-deterministic",
        "--phases", "examples,coverage,fuzzing",
        "--request-timeout", "10",
    ], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-4000:]
