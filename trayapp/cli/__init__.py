"""The ``aacli`` command line: one small module per command over trayapp.core."""
