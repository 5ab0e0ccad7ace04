"""The hub key's lifecycle: rotation with a crash-safe journal (rotation, journal, and
access for its AWS calls) and its age, cached in the config (age)."""

from trayapp.core.keys.access import KeyDeps
from trayapp.core.keys.age import KeyAge, due_keys, key_age
from trayapp.core.keys.rotation import (
    Outcome,
    delete_old,
    finish_all_interrupted,
    finish_interrupted,
    refresh_age,
    rotate,
)

__all__ = [
    "KeyAge",
    "KeyDeps",
    "Outcome",
    "delete_old",
    "due_keys",
    "finish_all_interrupted",
    "finish_interrupted",
    "key_age",
    "refresh_age",
    "rotate",
]
