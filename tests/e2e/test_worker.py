import time

import requests

from conftest import free_port, metric_samples, paging_tenant, wait_for


def test_worker_escalates_a_new_alert_at_once_and_stops_on_acknowledgement(owl, fresh_database, services):
    """API and worker as separate processes: the worker wakes on PostgreSQL NOTIFY (well before its 30 s poll),
    queues tier 1 in the sandbox, and an acknowledgement through the API ends the escalation."""
    base, headers, policy, env = paging_tenant(owl, fresh_database, services, free_port())
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
    events = requests.get(f"{base}/escalation-policies/{policy['id']}/events/{alert}", headers=headers, timeout=10).json()["items"]
    assert [e["tier"] for e in events] == [1, 1] and all(e["outcome"] == "sandboxed" for e in events)

    # The worker's own status server: health, and the metrics NightOwl's self-monitoring rules read.
    status = f"http://{env['NIGHTOWL_METRICS_LISTEN']}"
    health = requests.get(f"{status}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok", health.text
    samples = metric_samples(requests.get(f"{status}/metrics", timeout=5).text)
    assert samples[("nightowl_notifications_total", frozenset({("provider", "twilio"), ("outcome", "sandboxed")}))] == 2
    assert samples[("nightowl_notifications_total", frozenset({("provider", "twilio"), ("outcome", "failed")}))] == 0
    assert samples[("nightowl_alerts_escalated_total", frozenset({("tier", "1")}))] == 1
    last_run = samples[("nightowl_job_last_success_timestamp_seconds", frozenset({("job", "escalation")}))]
    assert abs(time.time() - last_run) < 60
    assert samples[("nightowl_notifications_overdue", frozenset())] == 0
