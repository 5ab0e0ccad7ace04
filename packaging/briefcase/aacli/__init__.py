"""The Briefcase app: a launcher package whose only job is to start the aacli tray."""
