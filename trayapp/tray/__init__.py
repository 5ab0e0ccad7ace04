"""The system-tray front: the pystray icon and menu, the expiry scheduler, notifications."""
