"""`owl bench ingest` drives the real pipeline: every alert it sends is counted, and its report has every line."""
import re
import subprocess

from conftest import free_port


def test_ingest_bench_reports_and_counts_every_alert(owl, fresh_database):
    run = subprocess.run(
        [owl, "bench", "ingest", "--database-url", fresh_database, "--alerts", "400", "--fingerprints", "50",
         "--batch", "20", "--port", str(free_port()), "--floor"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert re.match(r"400 GET /healthz over 8 connections: \d+ requests/s", lines[0])
    assert re.match(r"400 alerts in 1-alert payloads over 8 connections: \d+ alerts/s, p50 [\d.]+ ms, p99 [\d.]+ ms", lines[1])
    assert re.match(r"400 alerts in 20-alert payloads over 8 connections: \d+ alerts/s", lines[2])
    assert re.match(r"400 re-fire calls of 8 alerts on one connection, back to back: \d+ calls/s, p50 [\d.]+ ms", lines[3])
    assert re.match(r"400 re-fire calls of 8 alerts on one connection, one every 2.5 ms: \d+ calls/s", lines[4])
    assert len(lines) == 5

    # Both phases (400 alerts each) and both floors (400 calls of 8 each) counted on the 50 open alerts, none lost.
    counted = subprocess.run(
        ["psql", fresh_database, "-At", "-c",
         "SELECT count(*), sum(occurrence_count) FROM tenant_bench_ingest.alerts WHERE status = 'firing'"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert counted == f"50|{400 + 400 + 2 * 400 * 8}"
