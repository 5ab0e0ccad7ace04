"""Small Tk windows, each run as a child process: ``python -m trayapp.dialogs mfa|passphrase``.

Tk is imported only by the modules that draw windows (``common``, ``mfa``,
``passphrase``); ``client`` starts them from the tray or the CLI without Tk.
"""
