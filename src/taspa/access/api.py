"""HTTP API of the access area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["access"])
