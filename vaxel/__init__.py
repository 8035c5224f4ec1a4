"""Vaxel composition root: CLI, wiring, HTTP and SSH front doors."""

__version__ = "0.1.0"
