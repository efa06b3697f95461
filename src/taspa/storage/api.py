"""HTTP API of the storage area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["storage"])
