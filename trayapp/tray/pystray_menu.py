"""The tray's menu model as a pystray menu, and as the JSON that AACLI_TRAY_DEBUG_MENU writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trayapp.tray.menu import Action, MenuEntry


def to_pystray(entries: Sequence[MenuEntry], on_action: Callable[[Action], None]) -> Any:
    """The pystray menu for ``entries``; every callback only hands its action to ``on_action``."""
    import pystray  # type: ignore[import-untyped]

    items = []
    for entry in entries:
        if entry.separator:
            items.append(pystray.Menu.SEPARATOR)
            continue
        checked = (lambda _item: True) if entry.checked else None
        if entry.children:
            # GTK toggles a check item whenever its submenu opens, so a submenu shows a tick
            # in its label instead.
            label = f"\u2713 {entry.label}" if entry.checked else entry.label
            items.append(
                pystray.MenuItem(
                    label, to_pystray(entry.children, on_action), enabled=entry.enabled
                )
            )
        else:
            items.append(
                pystray.MenuItem(
                    entry.label,
                    _callback(entry.action, on_action),
                    checked=checked,
                    enabled=entry.enabled and entry.action.kind != "none",
                )
            )
    return pystray.Menu(*items)


def _callback(action: Action, on_action: Callable[[Action], None]) -> Callable[[Any, Any], None]:
    def clicked(_icon: Any, _item: Any) -> None:
        on_action(action)

    return clicked


def menu_labels(entries: Sequence[MenuEntry]) -> list[Any]:
    """The menu as nested JSON-able data (what AACLI_TRAY_DEBUG_MENU writes)."""
    return [
        "---"
        if e.separator
        else {
            "label": e.label,
            "action": e.action.kind,
            "target": e.action.target,
            "checked": e.checked,
            "enabled": e.enabled,
            "children": menu_labels(e.children),
        }
        for e in entries
    ]
