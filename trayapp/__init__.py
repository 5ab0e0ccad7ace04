"""aacli: MFA-protected, short-lived AWS credentials from the tray or the command line."""

__version__ = "0.1.0"
