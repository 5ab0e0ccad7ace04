"""MFA code sources (one module each) behind one protocol, and the reuse guard."""

from trayapp.core.codes.base import CodeRequest, CodeSource
from trayapp.core.codes.fixed import FixedCode
from trayapp.core.codes.guard import CodeGuard
from trayapp.core.codes.lazy import LazyCode
from trayapp.core.codes.terminal import TerminalCode

__all__ = ["CodeGuard", "CodeRequest", "CodeSource", "FixedCode", "LazyCode", "TerminalCode"]
