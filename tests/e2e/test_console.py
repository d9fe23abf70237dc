"""NightOwl's console in a real headless Chromium against `owl dev`, as a person uses it: signing in, alerts that
arrive live, acknowledging with one tap and undoing it, resolving, hostile webhook fields shown as text, a phone's
screen, no JavaScript errors, and no serious accessibility problem (axe-core). Screenshots of every page, at desktop
and phone sizes, go to tests/e2e/screenshots/ for a reviewer."""
import os
import re
import signal
import subprocess
import time
import uuid

import pytest
import requests
from axe_core_python.selenium import Axe
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from conftest import DEV_KEY, wait_for

BASE = "http://127.0.0.1:8080"
SHOTS = os.path.join(os.path.dirname(__file__), "screenshots")
DESKTOP = (1280, 900)
PHONE = (390, 844)
XSS = {
    "title": "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\"> Disk full on db-7",
    "description": "<svg onload=\"window.__xss=3\"></svg><a href=\"javascript:window.__xss=4\">click</a> </textarea><b>broken",
    "labels": {"host": "db-7", "note": "\"><script>window.__xss=5</script>"},
    "annotations": {"summary": "<iframe src=\"javascript:window.__xss=6\"></iframe>", "runbook_url": "javascript:window.__xss=7"},
    "generator_url": "javascript:window.__xss=8",
}


@pytest.fixture(scope="module")
def dev(owl):
    """`owl dev` on a fresh cluster; its banner must show while it runs (not only at exit), even into a pipe."""
    data_dir = os.path.join(os.getcwd(), ".owl-test", "console")
    process = subprocess.Popen([owl, "dev", "--data-dir", data_dir, "--reset"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        banner = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            banner.append(line)
            if "Ctrl-C stops" in line:
                break
        text = "".join(banner)
        assert "Open http://127.0.0.1:8080" in text, text
        postgres = re.search(r"PostgreSQL on 127\.0\.0\.1:(\d+)", text).group(1)
        wait_for(lambda: requests.get(f"{BASE}/readyz", timeout=2).ok, timeout=60)
        yield {"postgres_port": postgres, "data_dir": data_dir}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def chromium():
    """Debian's Chromium through its own driver (selenium must not download one), headless."""
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=DriverService("/usr/bin/chromedriver"), options=options)


@pytest.fixture(scope="module")
def browser(dev):
    driver = chromium()
    driver.set_window_size(*DESKTOP)
    os.makedirs(SHOTS, exist_ok=True)
    yield driver
    driver.quit()


def post_alert(**fields):
    body = {"severity": "critical", "service": "payments-api", **fields}
    response = requests.post(f"{BASE}/api/v1/webhooks/generic", headers={"X-API-Key": DEV_KEY}, json=body, timeout=10)
    assert response.status_code in (200, 202), response.text
    return response.json()["alerts"][0]["alert_id"].lower()


def wait(driver, seconds=5):
    return WebDriverWait(driver, seconds)


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def check_page(driver, name):
    """What every page must hold: no JavaScript error, no serious or critical accessibility violation, no sideways
    scrolling on a phone; screenshots at both sizes."""
    assert console_errors(driver) == [], f"{name}: console errors"
    violations = [v for v in Axe().run(driver)["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == [], f"{name}: " + "; ".join(f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in violations)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}-desktop.png"))
    driver.set_window_size(*PHONE)
    time.sleep(0.2)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    driver.save_screenshot(os.path.join(SHOTS, f"{name}-phone.png"))
    driver.set_window_size(*DESKTOP)
    assert overflow <= 0, f"{name}: scrolls sideways by {overflow}px at 390 px"
    assert driver.execute_script("return window.__xss") is None, f"{name}: a script from a webhook ran"


def dev_sign_in(driver, name_part="Alice"):
    driver.get(f"{BASE}/")
    assert "/auth/sign-in" in driver.current_url
    buttons = driver.find_elements(By.CSS_SELECTOR, "form[action='/auth/dev-sign-in'] button")
    button = next(b for b in buttons if name_part in b.text)
    button.click()
    wait(driver).until(ready.presence_of_element_located((By.ID, "me-title")))


def test_dev_sign_in_lands_on_home(browser):
    dev_sign_in(browser)
    assert browser.current_url.rstrip("/") == BASE
    text = browser.find_element(By.TAG_NAME, "main").text
    for heading in ("Am I on call?", "Firing now", "Paged to you", "On call now", "Recent knowledge-base entries"):
        assert heading in text
    # The demo rosters are running, and times name their zone.
    assert "Platform Weekly" in text and "UTC" in text
    check_page(browser, "home")


def test_password_sign_in(browser, dev, owl):
    env = {**os.environ, "NIGHTOWL_DATABASE_URL": f"postgres://owl@127.0.0.1:{dev['postgres_port']}/nightowl",
           "NIGHTOWL_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "NIGHTOWL_LOG_LEVEL": "error"}
    users = requests.get(f"{BASE}/api/v1/users", headers={"X-API-Key": DEV_KEY}, timeout=10).json()["items"]
    email = next(u["email"] for u in users if u["role"] == "engineer")
    done = subprocess.run([owl, "nightowl", "user", "set-password", "--tenant", "acme", "--email", email],
                          input="correct horse battery staple\n", env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    second = chromium()
    try:
        second.get(f"{BASE}/alerts")
        assert "/auth/sign-in" in second.current_url
        second.find_element(By.ID, "email").send_keys(email)
        second.find_element(By.ID, "password").send_keys("not the password")
        second.find_element(By.CSS_SELECTOR, "form[action='/auth/sign-in'] button").click()
        assert "not right" in second.find_element(By.ID, "error").text
        second.find_element(By.ID, "password").send_keys("correct horse battery staple")
        second.find_element(By.CSS_SELECTOR, "form[action='/auth/sign-in'] button").click()
        wait(second).until(lambda d: d.current_url.startswith(f"{BASE}/alerts"))
        assert second.find_element(By.TAG_NAME, "h1").text == "Alerts"
    finally:
        second.quit()


def test_alerts_arrive_live_and_are_acknowledged_undone_and_resolved(browser):
    browser.get(f"{BASE}/alerts")
    first = browser.current_window_handle
    browser.switch_to.new_window("window")
    second = browser.current_window_handle
    browser.get(f"{BASE}/alerts")
    time.sleep(1)  # both pages are listening
    title = f"Checkout latency {uuid.uuid4().hex[:6]}"
    alert_id = post_alert(title=title)
    row = f"tr[data-id='{alert_id}']"
    for handle in (second, first):
        browser.switch_to.window(handle)
        try:
            wait(browser, 2).until(ready.presence_of_element_located((By.CSS_SELECTOR, row)))
        except TimeoutException:
            pytest.fail(f"the new alert did not appear within 2 s in {'the second' if handle == second else 'the first'} window: "
                        f"{browser.current_url} {console_errors(browser)} {browser.find_element(By.TAG_NAME, 'main').text[:300]}")
    browser.switch_to.window(second)
    browser.close()
    browser.switch_to.window(first)

    # One tap acknowledges; the toast offers Undo.
    browser.find_element(By.CSS_SELECTOR, f"{row} button[name='acknowledge']").click()
    toast = wait(browser).until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".toast")))
    assert title in toast.text
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, f"{row} .badge.st-acknowledged"))
    toast.find_element(By.TAG_NAME, "button").click()
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, f"{row} .badge.st-firing"))
    assert "firing again" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    browser.find_element(By.CSS_SELECTOR, f"{row} button[name='acknowledge']").click()
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, f"{row} .badge.st-acknowledged"))
    check_page(browser, "alerts")

    # Resolve from the alert's page, after confirming.
    browser.get(f"{BASE}/a/{alert_id[:8]}")
    assert browser.current_url == f"{BASE}/alerts/{alert_id}"
    check_page(browser, "alert")
    browser.find_element(By.ID, "notes").send_keys("Scaled the checkout pods.")
    browser.find_element(By.CSS_SELECTOR, "#resolve button").click()
    wait(browser).until(ready.alert_is_present()).accept()
    wait(browser).until(lambda d: d.find_element(By.ID, "status").text == "resolved")
    assert "Scaled the checkout pods." in browser.find_element(By.TAG_NAME, "main").text
    timeline = browser.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert "Acknowledged by" in timeline and "Resolved by" in timeline


def test_touch_targets_on_a_phone(browser):
    post_alert(title=f"Phone check {uuid.uuid4().hex[:6]}")
    browser.set_window_size(*PHONE)
    try:
        browser.get(f"{BASE}/alerts")
        button = browser.find_element(By.CSS_SELECTOR, "button[name='acknowledge']")
        assert button.size["width"] >= 44 and button.size["height"] >= 44, button.size
        assert browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        browser.set_window_size(*DESKTOP)


def test_hostile_webhook_fields_are_shown_as_text(browser):
    alert_id = post_alert(**XSS)
    browser.get(f"{BASE}/alerts")
    row = wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-id='{alert_id}']")))
    assert "<script>window.__xss=1</script>" in row.text
    browser.get(f"{BASE}/alerts/{alert_id}")
    main = browser.find_element(By.TAG_NAME, "main")
    assert "<svg onload=" in main.text and "\"><script>window.__xss=5</script>" in main.text
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img, main svg, main iframe") == []
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.CSS_SELECTOR, "a")]
    assert not [h for h in hrefs if h.lower().startswith("javascript:")], hrefs
    browser.get(f"{BASE}/")
    for page in ("/", "/alerts", f"/alerts/{alert_id}"):
        browser.get(BASE + page)
        time.sleep(0.3)
        assert browser.execute_script("return window.__xss") is None, page


def test_readonly_people_see_no_actions(browser):
    browser.delete_all_cookies()
    browser.get(f"{BASE}/auth/sign-in")
    buttons = browser.find_elements(By.CSS_SELECTOR, "form[action='/auth/dev-sign-in'] button")
    readonly = [b for b in buttons if "readonly" in b.text]
    if not readonly:
        pytest.fail("the demo tenant has no readonly user")
    readonly[0].click()
    wait(browser).until(ready.presence_of_element_located((By.ID, "me-title")))
    browser.get(f"{BASE}/alerts")
    assert browser.find_elements(By.CSS_SELECTOR, "button[name='acknowledge'], button[name='action']") == []
    # Posting anyway is refused.
    token = browser.find_element(By.CSS_SELECTOR, "meta[name='csrf-token']").get_attribute("content")
    status = browser.execute_script("""
        const body = new URLSearchParams({_csrf: arguments[0], action: 'acknowledge', id: arguments[1]});
        return fetch('/alerts/actions', {method: 'POST', body}).then(r => r.status);
    """, token, str(uuid.uuid4()))
    assert status == 403
    browser.get_log("browser")  # the refused post is logged on purpose; later pages start clean
    browser.delete_all_cookies()


def test_the_knowledge_prompt_records_a_fix_that_enriches_the_next_firing(browser):
    browser.delete_all_cookies()
    dev_sign_in(browser)
    word = "zebrafish" + uuid.uuid4().hex[:4]
    title = f"Queue {word} backs up"
    alert_id = post_alert(title=title, severity="major", description="Consumers stop acknowledging messages.")
    resolved = requests.patch(f"{BASE}/api/v1/alerts/{alert_id}/resolve", headers={"X-API-Key": DEV_KEY}, timeout=10,
                              json={"notes": "Restarted the consumers."})
    assert resolved.status_code == 200 and resolved.json()["kb_prompt"] is True

    browser.get(f"{BASE}/alerts/{alert_id}")
    form = browser.find_element(By.CSS_SELECTOR, "#knowledge form")
    assert browser.find_element(By.ID, "entry-title").get_attribute("value") == title
    assert browser.find_element(By.ID, "entry-solution").get_attribute("value") == "Restarted the consumers."
    # A missing solution is named on the form shown again, nothing stored.
    browser.execute_script("document.getElementById('entry-solution').removeAttribute('required')")
    browser.find_element(By.ID, "entry-solution").clear()
    form.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    problem = wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, "#knowledge .notice.problem")))
    assert "solution" in problem.text
    browser.get_log("browser")  # the form shown again answers 422, which Chromium logs; that is the point here
    browser.find_element(By.ID, "entry-solution").send_keys(f"Restart the {word} consumers, then drain the dead-letter queue.")
    browser.find_element(By.CSS_SELECTOR, "#knowledge form button[type='submit']").click()
    wait(browser).until(lambda d: "/knowledge/" in d.current_url)
    assert "Added to the knowledge base" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert title in browser.find_element(By.TAG_NAME, "h1").text
    check_page(browser, "entry")

    # The next firing of the same alert comes with the solution.
    again = post_alert(title=title, severity="major", description="Consumers stop acknowledging messages.")
    browser.get(f"{BASE}/alerts/{again}")
    knowledge = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby='kb-title']").text
    assert "Matched entry" in knowledge and "drain the dead-letter queue" in knowledge

    # Search finds it, with the word marked.
    browser.get(f"{BASE}/knowledge?q={word}")
    marks = [m.text.lower() for m in browser.find_elements(By.CSS_SELECTOR, "p.highlight mark")]
    assert any(word in m for m in marks), marks
    check_page(browser, "knowledge")


def test_escalate_now_pages_the_next_tier(browser):
    alert_id = post_alert(title=f"Escalation check {uuid.uuid4().hex[:6]}")
    # The demo's default policy takes the alert once the worker has seen it.
    wait_for(lambda: requests.get(f"{BASE}/api/v1/alerts/{alert_id}", headers={"X-API-Key": DEV_KEY}, timeout=5).ok)
    time.sleep(1.5)
    browser.get(f"{BASE}/alerts/{alert_id}")
    browser.find_element(By.CSS_SELECTOR, f"form[action='/alerts/{alert_id}/escalate'] button").click()
    wait(browser).until(ready.alert_is_present()).accept()
    notice = wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, ".notice")))
    assert "Escalated: the next tier is paged now." in notice.text
    # Audited as the person who pressed it (the audit log is written a moment later).
    wait_for(lambda: alert_id in requests.get(f"{BASE}/api/v1/audit-log?action=alert.escalate", headers={"X-API-Key": DEV_KEY},
                                              timeout=10).text.lower(), timeout=10)


def create_entry(**fields):
    response = requests.post(f"{BASE}/api/v1/incidents", headers={"X-API-Key": DEV_KEY}, json=fields, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"].lower()


def test_knowledge_entry_edited_with_preview_then_merged(browser):
    browser.delete_all_cookies()
    dev_sign_in(browser)
    word = "heron" + uuid.uuid4().hex[:4]
    target = create_entry(title=f"Node {word} not ready", severity="major", fingerprints=[f"{word}-a"], solution="Cordon the node.")
    source = create_entry(title=f"Kubelet {word} stopped", severity="critical", fingerprints=[f"{word}-b"], solution="")

    browser.get(f"{BASE}/knowledge/{target}")
    browser.find_element(By.LINK_TEXT, "Edit").click()
    solution = wait(browser).until(ready.presence_of_element_located((By.ID, "entry-solution")))
    solution.clear()
    solution.send_keys("## Steps\n1. **Drain** the node\n2. Restart `kubelet`\n\n<img src=x onerror=\"window.__xss=9\">")
    # The preview follows the typing, rendered by the server; the markup typed stays text.
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#preview strong")
                        and d.find_element(By.CSS_SELECTOR, "#preview strong").text == "Drain")
    preview = browser.find_element(By.ID, "preview")
    assert preview.find_element(By.CSS_SELECTOR, "code").text == "kubelet"
    assert "<img src=x" in preview.text and preview.find_elements(By.CSS_SELECTOR, "img") == []
    check_page(browser, "entry-edit")
    browser.find_element(By.CSS_SELECTOR, "button[value='save']").click()
    wait(browser).until(lambda d: d.current_url == f"{BASE}/knowledge/{target}")
    assert "Saved." in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert browser.find_element(By.CSS_SELECTOR, ".prose strong").text == "Drain"
    changes = browser.find_element(By.CSS_SELECTOR, "ol.history").text
    assert "Edited" in changes and "Cordon the node." in changes
    assert browser.find_elements(By.CSS_SELECTOR, "ol.history ins")
    check_page(browser, "entry-history")

    # Merge: find the other entry, see what the merge does, confirm.
    browser.find_element(By.LINK_TEXT, "Merge another entry into this one").click()
    box = wait(browser).until(ready.presence_of_element_located((By.ID, "merge-q")))
    box.send_keys(f"kubelet {word}")
    box.submit()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"a[href$='source={source}']"))
    browser.find_element(By.CSS_SELECTOR, f"a[href$='source={source}']").click()
    table = wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, "main table")))
    assert f"{word}-a, {word}-b" in table.text and "critical" in table.text
    check_page(browser, "merge")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/merge'] button.primary").click()
    wait(browser).until(ready.alert_is_present()).accept()
    wait(browser).until(lambda d: d.current_url == f"{BASE}/knowledge/{target}")
    assert "Merged." in browser.find_element(By.CSS_SELECTOR, ".notice").text
    merged = requests.get(f"{BASE}/api/v1/incidents/{source}", headers={"X-API-Key": DEV_KEY}, timeout=10).json()
    assert (merged["merged_into_id"] or "").lower() == target
    assert browser.execute_script("return window.__xss") is None


def test_new_entry_form_names_its_problems(browser):
    browser.get(f"{BASE}/knowledge")
    browser.find_element(By.LINK_TEXT, "New entry").click()
    wait(browser).until(ready.presence_of_element_located((By.ID, "entry-title")))
    check_page(browser, "entry-new")
    browser.execute_script("document.getElementById('entry-title').removeAttribute('required')")
    browser.find_element(By.ID, "entry-solution").send_keys("Kept as typed")
    browser.find_element(By.CSS_SELECTOR, "button[value='save']").click()
    problem = wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, "#entry-title-problem")))
    assert "Give the entry a title." in problem.text
    assert browser.find_element(By.ID, "entry-solution").get_attribute("value") == "Kept as typed"
    browser.get_log("browser")  # the form shown again answers 422, which Chromium logs


def test_runbooks(browser):
    browser.get(f"{BASE}/runbooks")
    assert "7 runbooks" in browser.find_element(By.TAG_NAME, "main").text
    check_page(browser, "runbooks")
    browser.find_element(By.CSS_SELECTOR, "main ul a").click()
    wait(browser).until(ready.presence_of_element_located((By.CSS_SELECTOR, "article.prose h2")))
    check_page(browser, "runbook")


def test_dashboard(browser):
    browser.get(f"{BASE}/dashboard")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart[role='img']")
    assert len(charts) == 2
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect title"), "each bar names its value"
    assert "Alerts that fire most often" in browser.find_element(By.TAG_NAME, "main").text
    check_page(browser, "dashboard")


def test_keyboard_shortcuts(browser):
    title = f"Keyboard check {uuid.uuid4().hex[:6]}"
    alert_id = post_alert(title=title)
    browser.get(f"{BASE}/alerts")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    assert browser.find_element(By.ID, "keys").get_attribute("open") is not None
    webdriver.ActionChains(browser).send_keys("\ue00c").perform()  # Escape closes the help
    assert browser.find_element(By.ID, "keys").get_attribute("open") is None
    body.send_keys("j")
    selected = browser.find_element(By.CSS_SELECTOR, "[data-row].selected")
    assert selected.get_attribute("data-id") == alert_id, "the newest alert is the first row"
    body.send_keys("a")
    wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-id='{alert_id}'] .badge.st-acknowledged"))
    assert title in browser.find_element(By.CSS_SELECTOR, ".toast").text
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    assert browser.switch_to.active_element.get_attribute("id") == "q"
