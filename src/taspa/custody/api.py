"""HTTP API of the custody area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["custody"])
