"""HTTP API of the recorder area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["recorder"])
