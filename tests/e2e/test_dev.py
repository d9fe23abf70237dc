import os
import signal
import subprocess
import time

import requests
from icalendar import Calendar

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
        check_demo_calendar_feeds("http://127.0.0.1:8080")
        check_demo_escalation("http://127.0.0.1:8080")
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


def check_demo_calendar_feeds(base):
    """The demo rosters' iCalendar feeds parse in a standard parser, by API key and by secret URL."""
    headers = {"X-API-Key": DEV_KEY}
    rosters = {r["name"]: r for r in requests.get(f"{base}/api/v1/rosters", headers=headers, timeout=10).json()["items"]}
    assert set(rosters) == {"Platform Weekly", "Database Daily", "Global Primary"}

    weekly = rosters["Platform Weekly"]["id"]
    response = requests.get(f"{base}/api/v1/rosters/{weekly}/export.ics", headers=headers, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) >= 15, "a weekly roster over four months, one shift split by an override"
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids))
    starts = [event.decoded("DTSTART") for event in events]
    ends = [event.decoded("DTEND") for event in events]
    assert all(start.utcoffset().total_seconds() == 0 for start in starts)
    assert all(a == b for a, b in zip(ends, starts[1:])), "shifts follow each other without gaps"
    overrides = [event for event in events if "OVERRIDE" in event.get("CATEGORIES").to_ical().decode()]
    assert len(overrides) == 1 and "Lars Holm" in str(overrides[0]["SUMMARY"])
    assert "dentist" in str(overrides[0]["DESCRIPTION"])

    # Calendar apps cannot send headers: an admin makes a secret URL, and rotating it retires the old one.
    first = requests.post(f"{base}/api/v1/rosters/{rosters['Global Primary']['id']}/calendar-token", headers=headers, timeout=10).json()
    feed = requests.get(f"{base}{first['path']}", timeout=10)
    assert feed.status_code == 200
    follow_the_sun = Calendar.from_ical(feed.content).walk("VEVENT")
    assert any("APAC" in str(event["DESCRIPTION"]) for event in follow_the_sun)
    assert any("EMEA" in str(event["DESCRIPTION"]) for event in follow_the_sun)
    second = requests.post(f"{base}/api/v1/rosters/{rosters['Global Primary']['id']}/calendar-token", headers=headers, timeout=10).json()
    assert requests.get(f"{base}{first['path']}", timeout=10).status_code == 404
    assert requests.get(f"{base}{second['path']}", timeout=10).status_code == 200


def check_demo_escalation(base):
    """owl dev runs the worker too: a critical alert pages the demo's default policy at once, into the sandbox."""
    headers = {"X-API-Key": DEV_KEY}
    fired = requests.post(f"{base}/api/v1/webhooks/generic", headers=headers, timeout=10,
                          json={"title": "Checkout latency above SLO", "severity": "critical", "fingerprint": "dev-e2e"}).json()
    alert = fired["alerts"][0]["alert_id"]

    def paged():
        items = requests.get(f"{base}/api/v1/notifications", params={"alert_id": alert}, headers=headers, timeout=5).json()["items"]
        return [i for i in items if i["method"] == "sms" and i["status"] == "sandboxed"] or None

    sms = wait_for(paged, timeout=15)
    assert sms[0]["recipient"].startswith("+") and "Checkout latency above SLO" in sms[0]["payload"]["sms"]
