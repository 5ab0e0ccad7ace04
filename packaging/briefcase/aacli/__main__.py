"""Briefcase starts an app with ``python -m <app>``: this starts the tray (``aacli-tray``)."""

import sys

from trayapp.tray.main import main

sys.exit(main())
