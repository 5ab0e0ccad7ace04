"""Issue 15 item 4: the tray's hub key reminder (icon mark, menu line, daily notification) and
its "Rotate hub key…", with a key made old by the clock."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import screenshot_dir

from trayapp.core.codes import FixedCode
from trayapp.tray.app import TrayApp
from trayapp.tray.menu import DASH, Action, find_action


def _tray(configured, clock) -> TrayApp:
    service = configured.service(clock=clock)
    return TrayApp(service, code_source=lambda: FixedCode(configured.code()), clock=clock)


def _rotated(configured) -> str:
    result = configured.aacli("rotate", "acme")
    assert result.returncode == 0, result.stderr
    (key,) = configured.sandbox.access_keys(configured.hub)
    return key


def test_an_old_key_marks_the_icon_tops_the_menu_and_notifies_once_a_day(configured):
    """Issue 15 item 4: a key 97 days old by the clock: icon mark, "acme: hub key 97 days old
    — Rotate…" on top, one notification a day; Rotate from the menu clears it."""
    _rotated(configured)  # the config now knows when the key was made: today
    moment = [datetime.now(timezone.utc) + timedelta(days=97, minutes=1)]
    tray = _tray(configured, lambda: moment[0])
    model, state, _ = tray._snapshot()
    assert model[0].label == f"acme: hub key 97 days old {DASH} Rotate\u2026"
    assert model[0].action == Action("rotate", "acme")
    assert find_action(model, "Rotate hub key") == Action("rotate", "acme")
    assert state == ("idle", 0, True)  # the icon's reminder mark
    tray.remind_keys()
    tray.remind_keys()  # the same day: no second notification
    assert [m for _, m in tray.notify.sent] == [
        "The hub key of acme is 97 days old; rotate it from the menu (Rotate hub key\u2026)."
    ]
    moment[0] += timedelta(hours=23)
    tray.remind_keys()
    assert len(tray.notify.sent) == 1
    moment[0] += timedelta(hours=1, minutes=1)
    tray.remind_keys()  # a day later: reminded again
    assert len(tray.notify.sent) == 2 and "98 days old" in tray.notify.sent[-1][1]

    old = configured.sandbox.access_keys(configured.hub)
    tray.perform(Action("rotate", "acme"))
    new = configured.sandbox.access_keys(configured.hub)
    assert len(new) == 1 and new.keys() != old.keys()
    assert "hub key rotated: aacli now uses" in tray.notify.sent[-1][1]
    moment[0] = datetime.now(timezone.utc)
    model, state, _ = tray._snapshot()
    assert not model[0].label.startswith("acme: hub key") and state[2] is False


def test_the_tray_start_finishes_an_interrupted_rotation(configured):
    """Issue 15 item 2: the tray's start finishes a rotation cut short after the switch."""
    from trayapp.core import keys

    class Killed(BaseException):
        pass

    def die_at(step: str) -> None:
        if step == "deactivate":
            raise Killed

    tray = _tray(configured, lambda: datetime.now(timezone.utc))
    deps = keys.KeyDeps.from_service(tray.service, on_step=die_at)
    with pytest.raises(Killed):
        keys.rotate(deps, "acme")
    assert len(configured.sandbox.access_keys(configured.hub)) == 2
    tray.actions.put(None)
    tray._work()  # the worker's start, then stops at None
    assert len(configured.sandbox.access_keys(configured.hub)) == 1
    assert "interrupted rotation finished" in tray.notify.sent[-1][1]


def _make_old(configured, days: int) -> None:
    from trayapp.core import config as cfg
    from trayapp.core.keys.age import with_key

    created = datetime.now(timezone.utc) - timedelta(days=days, minutes=5)
    path = configured.home / "config.toml"
    config = cfg.load_config(path)
    profile = cfg.find_profile(config, "acme")
    aged = with_key(profile, configured.hub.access_key_id, created)
    cfg.save_config(cfg.replace_profile(config, aged), path)


def _blue_pixels(path, box) -> int:
    from PIL import Image

    from trayapp.tray.icon import REMINDER

    image = Image.open(path).convert("RGB").crop(box)
    target = REMINDER[:3]
    return sum(
        1
        for pixel in image.get_flattened_data()
        if all(abs(a - b) < 40 for a, b in zip(pixel, target, strict=True))
    )


@pytest.mark.display
@pytest.mark.slow
def test_the_real_tray_reminds_and_rotates_from_the_menu(configured, tmp_path):
    """Issue 15 item 4: the real tray (Xvfb + trayer): a 97-day-old key marks the icon, tops the
    menu and notifies; clicking the line asks for the code in the dialog and rotates."""
    from test_tray_e2e import _dialog_window, _has_pygobject, _type_code
    from tray_harness import desktop, start_tray, wait_for

    if not _has_pygobject():
        from conftest import need_tool

        need_tool("PyGObject is not installed (pip install 'PyGObject<3.51')")
    _make_old(configured, 97)
    old = configured.hub.access_key_id
    with desktop(tmp_path) as desk:
        tray = start_tray(desk, configured.environ(), tmp_path)
        top = wait_for("the reminder line", lambda: (m := tray.model()) and m["menu"][0])
        assert top["label"] == f"acme: hub key 97 days old {DASH} Rotate\u2026"
        assert top["action"] == "rotate" and tray.model()["key_reminder"] is True
        wait_for("the reminder notification", lambda: "97 days old" in desk.notifications())
        x, y = tray.icon_centre()
        icon_shot = desk.screenshot("tray-key-reminder-icon.png")
        assert _blue_pixels(icon_shot, (x - 16, y - 16, x + 16, y + 16)) >= 6  # the mark
        tray.open_menu()
        time.sleep(0.5)
        shot = desk.screenshot("tray-key-reminder.png")
        (screenshot_dir() / "tray-key-reminder.png").write_bytes(shot.read_bytes())
        tray.walk("acme: hub key")
        tray.activate()
        window = _dialog_window(tray)
        time.sleep(0.5)
        _type_code(desk, window, configured.code())
        wait_for(
            "the rotation's notification",
            lambda: "hub key rotated" in desk.notifications(),
            timeout=60,
        )
        keys = configured.sandbox.access_keys(configured.hub)
        assert len(keys) == 1 and old not in keys
        wait_for("the reminder to go", lambda: tray.model().get("key_reminder") is False)
        assert not tray.model()["menu"][0]["label"].startswith("acme: hub key")
        assert re.search(r"aacli now uses AKIA\w+", desk.notifications())
        assert "Traceback" not in tray.log(), tray.log()
        tray.stop()
