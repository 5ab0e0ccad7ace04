"""A local AWS for the demo and the tests: moto behind an STS checker, plus federation sign-in."""

from trayapp.sandbox.federation import ConsoleSignin
from trayapp.sandbox.issued import IssuedCredentials
from trayapp.sandbox.provision import HubUser
from trayapp.sandbox.server import Sandbox

__all__ = ["ConsoleSignin", "HubUser", "IssuedCredentials", "Sandbox"]
