"""HTTP API of the sealing area (CONTRACT.md); thin handlers over actions and selectors."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from taspa.api.types import Id
from taspa.courts.models import User
from taspa.errors import NotFound, PayloadTooLarge
from taspa.sealing import actions

router = Router(tags=["sealing"])


class SigningKeyOut(Schema):
    id: int
    subject: str
    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    algorithm: str
    chain_checked: bool
    revoked_at: datetime | None


def _user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No user %(user_id)s."), params={"user_id": user_id})
    return user


@router.post("/users/{user_id}/signing-key", response={201: SigningKeyOut})
def register_signing_key(
    request: HttpRequest,
    user_id: Id,
    p12: File[UploadedFile],
    password: Form[str] = "",
):
    """Register the user's EDS key (R14): multipart ``p12`` file + ``password``; admins only."""
    if p12.size is not None and p12.size > actions.MAX_P12_BYTES:
        raise PayloadTooLarge(
            "p12_too_large", _("That file is too large to be a PKCS#12 key file.")
        )
    key = actions.register_signing_key(
        actor=request.user, user=_user(user_id), p12=p12.read(), password=password
    )
    return Status(201, key)


@router.delete("/users/{user_id}/signing-key", response=SigningKeyOut)
def revoke_signing_key(request: HttpRequest, user_id: Id):
    """Revoke the user's current EDS key: it stops signing at once (R14, R20)."""
    return actions.revoke_current_signing_key(actor=request.user, user=_user(user_id))
