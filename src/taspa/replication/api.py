"""HTTP API of the replication area (CONTRACT.md); thin handlers over actions and selectors."""

from ninja import Router

router = Router(tags=["replication"])
