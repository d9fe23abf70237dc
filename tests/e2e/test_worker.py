import time

import requests

from conftest import free_port, run_owl, service_env, wait_for


def test_worker_escalates_a_new_alert_at_once_and_stops_on_acknowledgement(owl, fresh_database, services):
    """API and worker as separate processes: the worker wakes on PostgreSQL NOTIFY (well before its 30 s poll),
    queues tier 1 in the sandbox, and an acknowledgement through the API ends the escalation."""
    port = free_port()
    env = service_env("NIGHTOWL", fresh_database, port)
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

    services(owl, ["nightowl", "--mode", "worker"], env)
    time.sleep(1.5)  # the worker's first poll has passed; what follows must come from NOTIFY
    fired = requests.post(f"{base}/webhooks/generic", headers=headers, timeout=10,
                          json={"title": "Checkout 5xx above 5%", "severity": "critical", "fingerprint": "e2e-worker"}).json()
    alert = fired["alerts"][0]["alert_id"]

    def sandboxed():
        items = requests.get(f"{base}/notifications", params={"alert_id": alert}, headers=headers, timeout=5).json()["items"]
        return items if len(items) == 2 and all(i["status"] == "sandboxed" for i in items) else None

    items = wait_for(sandboxed, timeout=10)
    assert {i["method"] for i in items} == {"sms", "phone"}
    assert all(i["recipient"] == "+14155550100" and i["mode"] == "sandbox" for i in items)
    assert "Reply ACK to acknowledge" in next(i for i in items if i["method"] == "sms")["payload"]["sms"]

    ack = requests.patch(f"{base}/alerts/{alert}/acknowledge", headers=headers, timeout=10)
    assert ack.status_code == 200
    events = requests.get(f"{base}/escalation-policies/{policy.json()['id']}/events/{alert}", headers=headers, timeout=10).json()["items"]
    assert [e["tier"] for e in events] == [1, 1] and all(e["outcome"] == "sandboxed" for e in events)
