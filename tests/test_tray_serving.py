"""Issue 16 must-show 3: the real tray (Xvfb + trayer, gtk backend) serves credentials to
programs, renews silently with a stored seed, and asks with the MFA dialog otherwise."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from conftest import screenshot_dir
from settings_driver import SettingsDriver
from test_tray_e2e import _dialog_window, _entry, _has_pygobject, _type_code
from tray_harness import ARTIFACTS, desktop, start_tray, wait_for

pytestmark = [pytest.mark.display, pytest.mark.slow]

FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
ROLE = ("dev (111111111111)", "DEVELOPER")

# A long-running SDK client: boto3 with the two variables only, calling STS every 2 s and
# saying which key each call was signed with (botocore refreshes from the server by itself).
BOTO3_CLIENT = """
import json, sys, time
import boto3
session = boto3.session.Session()
sts = session.client("sts")
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        arn = sts.get_caller_identity()["Arn"]
        key = session.get_credentials().get_frozen_credentials().access_key
        print(json.dumps({"arn": arn, "key": key}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    time.sleep(2)
"""


def _need_gi():
    if not _has_pygobject():
        from conftest import need_tool

        need_tool("PyGObject is not installed (pip install 'PyGObject<3.51')")


def _server_env(configured, target="dev/DEVELOPER"):
    done = configured.aacli("env", "--server", target, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _get(variables, timeout=100.0):
    """One request as an SDK's container provider makes it (status, JSON body)."""
    request = urllib.request.Request(
        variables[FULL_URI], headers={"Authorization": variables[TOKEN]}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _port_open(url):
    port = int(url.split(":")[2].split("/")[0])
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _dialogs(desk):
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "MFA code"],
        env=desk.env({}), capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    return found.stdout.split()


def _switch_serving(desk, configured, tmp_path, on):
    """The settings window's App settings page: Alt+R toggles "Serve credentials to
    programs", Enter saves (the running tray notices the config and follows)."""
    env = desk.env(configured.environ())
    child, window = SettingsDriver.start(env, tmp_path / f"settings-{on}.json")
    window.key("alt+s")
    window.until("the app page", lambda s: s["page"] == "App settings")
    time.sleep(0.3)
    window.key("alt+r")
    window.until("the switch", lambda s: s["app"]["serve_credentials"] is on)
    window.key("Return")
    window.until("saved", lambda s: "Saved the app settings" in s["status"])
    window.key("Escape")
    assert child.wait(timeout=15) == 0


def _escape(desk, window):
    """Cancel an MFA dialog as a user does (Esc)."""
    desk.xdotool("mousemove", "--window", window, "20", "20")
    desk.xdotool("windowfocus", "--sync", window)
    time.sleep(0.3)
    desk.xdotool("key", "Escape")


def _clipboard(desk):
    done = subprocess.run(
        ["xclip", "-selection", "clipboard", "-out"],
        env=desk.env({}), capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    return done.stdout


def test_tray_serves_and_renews_silently_with_a_stored_seed(configured, tmp_path):
    """Issue 16 must-show 3 (silent): the settings switch turns serving on; boto3 in a child
    given only the two variables of `aacli env --server` keeps working across renewals of
    short-lived credentials, each renewed with the stored seed (no dialog), nothing written to
    ~/.aws; a role's submenu has "Copy server env", which copies the URL and token (no keys);
    the switch turns it off again; Quit removes the tray socket."""
    _need_gi()
    sandbox = configured.sandbox
    seed = configured.hub.mfa_seed
    done = configured.aacli("config", "totp", "acme", "--seed-from-stdin", input=seed + "\n")
    assert done.returncode == 0, done.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    # Renewed when half is left: every ~35 s, so each renewal has a new 30 s code window (a
    # code is never used twice: a renewal in the same window would wait for the next one).
    sandbox.credential_lifetime = 70
    try:
        with desktop(tmp_path) as desk:
            tray = start_tray(desk, configured.environ(), tmp_path)
            sock_file = configured.home / "state" / "tray.sock"
            wait_for("the tray socket", sock_file.exists)
            refused = configured.aacli("env", "--server", "dev/DEVELOPER")
            assert refused.returncode != 0 and "Serve credentials" in refused.stderr

            _switch_serving(desk, configured, tmp_path, on=True)
            wait_for(
                "the serving notification",
                lambda: "Serving credentials to programs" in desk.notifications(),
            )
            variables = _server_env(configured)
            assert set(variables) >= {FULL_URI, TOKEN}
            assert variables[FULL_URI].startswith("http://127.0.0.1:")
            assert "AWS_SECRET_ACCESS_KEY" not in variables
            port = variables[FULL_URI].split(":")[2].split("/")[0]
            wait_for(
                "the menu to say where it serves",
                lambda: _entry(tray.model(), f"Serving credentials on 127.0.0.1:{port}"),
            )

            before = len(sandbox.sts_requests)
            child_env = {
                k: v for k, v in configured.environ().items() if not k.startswith("AACLI_")
            }
            child_env.update(variables)
            client = subprocess.run(
                [sys.executable, "-c", BOTO3_CLIENT, "50"],
                capture_output=True, text=True, env=child_env, timeout=120,
            )  # fmt: skip
            calls = [json.loads(line) for line in client.stdout.splitlines()]
            assert calls and all("error" not in c for c in calls), client.stdout + client.stderr
            assert all(":assumed-role/DEVELOPER/" in c["arn"] for c in calls)
            keys = {c["key"] for c in calls}
            assert len(keys) >= 2, calls  # renewed while the client ran
            renewals = [r for r in sandbox.sts_requests[before:] if r.action == "AssumeRole"]
            assert len(renewals) >= 2 and all(r.token_code for r in renewals)
            assert not _dialogs(desk)  # the seed gave every code: nobody was asked
            assert not configured.credentials.exists()  # served from memory only

            # Sign in (silently, the seed) so the role has its submenu; Copy server env.
            tray.open_menu()
            tray.walk(*ROLE)
            tray.activate()
            wait_for(
                "DEVELOPER active",
                lambda: (e := _entry(tray.model(), *ROLE)) and e["checked"],
                timeout=40,
            )
            role = _entry(tray.model(), *ROLE)
            labels = [c["label"] for c in role["children"]]
            assert labels.index("Copy server env") == labels.index("Copy env for shell") + 1
            tray.open_menu()
            tray.walk(*ROLE, "Copy server env")
            time.sleep(0.5)
            from xvfb import screenshot

            screenshot(desk.display, "root", screenshot_dir() / "tray-menu-copy-server-env.png")
            tray.activate()
            wait_for("the clipboard", lambda: FULL_URI in _clipboard(desk))
            copied = _clipboard(desk)
            assert variables[FULL_URI] in copied and variables[TOKEN] in copied
            assert "AWS_SECRET_ACCESS_KEY" not in copied and "AWS_SESSION_TOKEN" not in copied

            # The tray's live session is what the server hands out while it has time left.
            status, body = _get(variables, timeout=20)
            assert status == 200 and body["AccessKeyId"] in configured.credentials.read_text()
            assert body["RoleArn"] == "arn:aws:iam::111111111111:role/DEVELOPER"

            _switch_serving(desk, configured, tmp_path, on=False)
            wait_for("the server to stop", lambda: not _port_open(variables[FULL_URI]))
            wait_for(
                "Copy server env gone",
                lambda: (
                    "Copy server env"
                    not in [
                        c["label"]
                        for c in (_entry(tray.model(), *ROLE) or {"children": []})["children"]
                    ]
                ),
            )
            assert "Stopped serving credentials" in desk.notifications()
            assert not _entry(tray.model(), "Serving credentials on")
            tray.alive()
            assert "Traceback" not in tray.log(), tray.log()
            tray.stop()
            assert not sock_file.exists()
    finally:
        sandbox.credential_lifetime = None


def test_tray_asks_with_the_dialog_once_when_no_code_can_be_had(configured, tmp_path):
    """Issue 16 must-show 3 (dialog): with no silent code source, two clients asking at once
    for the same role get one MFA dialog, and a click on the role meanwhile waits its turn on
    the sign-in worker; once the code is typed both clients get the same credentials, and
    credential-process --server answers at once even while the click's dialog is open; Sign out
    drops the held credentials too (the next client makes the tray ask again); a cancelled dialog
    gives the client the error JSON, and a client polling again does not reopen it."""
    _need_gi()
    config = configured.home / "config.toml"
    config.write_text(
        config.read_text().replace(
            'secret_backend = "vault"', 'secret_backend = "vault"\nserve_credentials = true'
        )
    )
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        wait_for(
            "the serving notification",
            lambda: "Serving credentials to programs" in desk.notifications(),
        )
        variables = _server_env(configured)
        answers: list[tuple[int, dict]] = []
        clients = [
            threading.Thread(target=lambda: answers.append(_get(variables))) for _ in range(2)
        ]
        for client in clients:
            client.start()
            time.sleep(0.5)
        window = _dialog_window(tray)
        time.sleep(1.5)  # the second client is waiting too: still one dialog
        assert len(_dialogs(desk)) == 1
        desk.screenshot("tray-serving-dialog.png")
        tray.open_menu()  # the user clicks the role meanwhile: its sign-in waits its turn
        tray.walk(*ROLE)
        tray.activate()
        time.sleep(1.5)
        assert _dialogs(desk) == [window]
        _type_code(desk, window, configured.code())
        for client in clients:
            client.join(timeout=60)
        assert [status for status, _ in answers] == [200, 200], answers
        assert answers[0][1]["AccessKeyId"] == answers[1][1]["AccessKeyId"]
        assert answers[0][1]["RoleArn"].endswith(":role/DEVELOPER")

        # Then the click's own dialog; while it is open, the held credentials are still
        # handed out at once (credential-process --server), no second dialog.
        click_dialog = _dialog_window(tray)  # the first one has closed: its code came back
        done = configured.aacli("credential-process", "--server", "dev/DEVELOPER")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["AccessKeyId"] == answers[0][1]["AccessKeyId"]
        assert _dialogs(desk) == [click_dialog]
        _type_code(desk, click_dialog, configured.next_code())
        wait_for("DEVELOPER active", lambda: (e := _entry(tray.model(), *ROLE)) and e["checked"])
        assert not _dialogs(desk)

        # Sign out drops what the server held too: the next client makes the tray ask again.
        tray.open_menu()
        tray.walk(*ROLE, "Sign out")
        tray.activate()
        wait_for("DEVELOPER signed out", lambda: _entry(tray.model(), *ROLE)["action"] == "auth")
        after: list[tuple[int, dict]] = []
        client = threading.Thread(target=lambda: after.append(_get(variables)))
        client.start()
        _escape(desk, _dialog_window(tray))  # asked again: nothing held any more
        client.join(timeout=60)
        assert after and after[0][0] == 503, after

        other = _server_env(configured, "dev/ReadOnly")
        cancelled: list[tuple[int, dict]] = []
        client = threading.Thread(target=lambda: cancelled.append(_get(other)))
        client.start()
        _escape(desk, _dialog_window(tray))
        client.join(timeout=60)
        status, body = cancelled[0]
        assert status == 503 and body["message"], cancelled
        started = time.monotonic()
        status, body = _get(other)  # an SDK polling again: no new dialog at once
        assert status == 503 and "was cancelled" in body["message"], body
        assert time.monotonic() - started < 5 and not _dialogs(desk)
        tray.alive()
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()
