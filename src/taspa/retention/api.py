"""HTTP API of the retention area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["retention"])
