"""Evidence-record rules (pure): what a recording's data group is, the audit head statement,
the day's bounds and when to renew."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A recording's data objects, by the Recording field holding each blob's SHA-256. The signer
# certificate's revocation evidence (OCSP response or CRL, issue 15 item 2) lies inside both
# signatures (SignedData.crls, CAdES-LT), so their leaves cover it (ADR 0010).
DATA_FIELDS = {
    "media": "sha256",
    "signature": "signature_digest",
    "manifest": "manifest_digest",
    "manifest_signature": "manifest_signature_digest",
}
DEFAULT_ALGORITHM = "sha256"
RENEW_MARGIN = timedelta(days=90)


def audit_statement(seq: int, chain_hash: str) -> bytes:
    """The data object standing for the audit chain's head in a day's tree."""
    return f"taspa audit head\nseq {seq}\nhash {chain_hash}\n".encode("ascii")


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The day's start and end (exclusive) in the court's local time, as aware datetimes."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def renewal_due(renew_by: datetime | None, now: datetime, margin: timedelta = RENEW_MARGIN) -> bool:
    """A timestamp renewal is due ``margin`` before the TSA certificate expires (§5.2)."""
    return renew_by is not None and renew_by - margin <= now
