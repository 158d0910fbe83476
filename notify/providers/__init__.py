"""Outward message channels: the port (``base``), one adapter per channel, the registry."""
