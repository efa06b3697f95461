"""HTTP API of the sealing area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["sealing"])
