"""Signing in to a real service process: a password set from the command line, the sign-in form over HTTP with its
CSRF cookie, the session cookie's flags, and the security headers of the page."""
import os
import re
import subprocess

import requests

from conftest import free_port, run_owl, service_env, wait_for


def test_password_from_the_command_line_signs_in_through_the_form(owl, fresh_database, services):
    port = free_port()
    env = service_env("BOOKOWL", fresh_database, port)
    run_owl(owl, ["bookowl", "tenant", "create", "--slug", "umbrella", "--name", "Umbrella"], env)
    services(owl, ["bookowl", "--mode", "api"], env)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).ok)

    # The first admin of a team without an identity provider: a user record, then a password from standard input.
    created = subprocess.run(["psql", fresh_database, "-At", "-c",
                              "INSERT INTO tenant_umbrella.users (email, display_name, role) VALUES ('ops@umbrella.example', 'Ops', 'admin') RETURNING id"],
                             check=True, capture_output=True, text=True)
    assert created.stdout.strip()
    short = subprocess.run([owl, "bookowl", "user", "set-password", "--tenant", "umbrella", "--email", "ops@umbrella.example"],
                           input="short\n", env={**os.environ, **env}, capture_output=True, text=True)
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    done = subprocess.run([owl, "bookowl", "user", "set-password", "--tenant", "umbrella", "--email", "ops@umbrella.example"],
                          input="a long and good passphrase\n", env={**os.environ, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    browser = requests.Session()
    page = browser.get(f"{base}/auth/sign-in?return_to=/auth/account", timeout=10)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"] and "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "same-origin"
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    assert 'value="umbrella"' in page.text  # the only tenant is filled in

    wrong = browser.post(f"{base}/auth/sign-in", timeout=10, allow_redirects=False,
                         data={"_csrf": csrf, "tenant": "umbrella", "email": "ops@umbrella.example", "password": "not it at all", "return_to": "/auth/account"})
    assert wrong.status_code == 401 and "not right" in wrong.text

    signed_in = browser.post(f"{base}/auth/sign-in", timeout=10, allow_redirects=False,
                             data={"_csrf": csrf, "tenant": "umbrella", "email": "OPS@umbrella.example", "password": "a long and good passphrase",
                                   "return_to": "/auth/account"})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/auth/account"
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("bookowl_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    account = browser.get(f"{base}/auth/account", timeout=10)
    assert account.status_code == 200 and "ops@umbrella.example" in account.text
    assert browser.get(f"{base}/api/v1/ping", timeout=10).json()["auth_method"] == "session"
    sessions = browser.get(f"{base}/api/v1/me/sessions", timeout=10).json()["items"]
    assert len(sessions) == 1 and sessions[0]["method"] == "password"

    # A form without the session's CSRF token changes nothing.
    assert browser.post(f"{base}/auth/sign-out", timeout=10, allow_redirects=False).status_code == 403
    token = re.search(r'name="_csrf" value="([^"]+)"', account.text).group(1)
    out = browser.post(f"{base}/auth/sign-out", data={"_csrf": token}, timeout=10, allow_redirects=False)
    assert out.status_code == 303
    assert browser.get(f"{base}/auth/account", timeout=10, allow_redirects=False).status_code == 303
