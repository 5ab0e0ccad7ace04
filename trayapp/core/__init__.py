"""The aacli library: no UI, no globals, no printing; every dependency passed in."""
