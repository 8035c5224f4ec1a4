"""HTTP front door: JSON API (token auth), health, OpenAPI document and event stream."""

from .app import create_app

__all__ = ["create_app"]
