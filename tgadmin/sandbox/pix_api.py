"""Moved to the `tgadmin.sandbox.pix` package (one module per behaviour); kept so imports still work."""

from tgadmin.sandbox.pix import notification_url, router

__all__ = ["notification_url", "router"]
