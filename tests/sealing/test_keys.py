"""R14, R20: EDS keys registered by administrators, stored encrypted, usable unattended."""

from __future__ import annotations

import os
import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from sealkit import PASSWORD, openssl_verify

from taspa.audit.models import AuditEvent
from taspa.errors import Forbidden
from taspa.sealing import actions, keystore
from taspa.sealing.models import SigningKey


def upload(api_as, actor, user, p12: bytes, password: str = PASSWORD):
    client = api_as(actor)
    return client.client.post(
        f"/api/v1/users/{user.pk}/signing-key",
        data={"p12": SimpleUploadedFile("key.p12", p12), "password": password},
        headers=client.headers,
    )


@pytest.mark.parametrize("key_type", ["rsa2048", "ec-p256"])
def test_r14_admin_registers_key_and_secretary_signs_unattended(
    world, api_as, pki, tmp_path, key_type
):
    secretary = world.person("secretary")
    answer = upload(api_as, world.admin, secretary, pki.p12(key_type))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert "Айгүл" in body["subject"]
    assert body["algorithm"] == {"rsa2048": "rsa2048", "ec-p256": "ec-secp256r1"}[key_type]
    assert body["not_after"]

    signer = actions.signer_for(secretary)
    media = tmp_path / "m.ts"
    media.write_bytes(b"hearing")
    sig = tmp_path / "m.ts.p7s"
    sig.write_bytes(signer.sign_detached(media))
    assert openssl_verify(media, sig, pki.ca_pem).ok
    assert AuditEvent.objects.filter(action="signing_key.register").count() == 1


def test_r20_court_admin_registers_for_own_court_only(world, api_as, pki):
    admin_a = world.person("court_admin", "a")
    assert upload(api_as, admin_a, world.person("secretary", "a"), pki.p12()).status_code == 201
    answer = upload(api_as, admin_a, world.person("secretary", "b"), pki.p12())
    assert answer.status_code == 403


def test_r20_secretary_may_not_register_keys(world, api_as, pki):
    secretary = world.person("secretary")
    answer = upload(api_as, secretary, secretary, pki.p12())
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert not SigningKey.objects.exists()


@pytest.mark.parametrize(
    ("p12", "password"),
    [("good", "wrong password"), ("garbage", PASSWORD), ("empty", PASSWORD)],
)
def test_bad_password_or_garbage_is_422_p12_unreadable(world, api_as, pki, p12, password):
    data = {"good": pki.p12(), "garbage": b"\x30\x82garbage", "empty": b""}[p12]
    answer = upload(api_as, world.admin, world.person("secretary"), data, password)
    assert answer.status_code == 422
    assert answer.json()["error"] == "p12_unreadable"


def test_expired_certificate_is_422(world, api_as, pki):
    answer = upload(api_as, world.admin, world.person("secretary"), pki.expired_p12())
    assert answer.status_code == 422
    assert answer.json()["error"] == "certificate_expired"


def test_untrusted_ca_is_422_when_trust_anchors_set(world, api_as, pki, settings):
    settings.TASPA_TRUST_ANCHORS = str(pki.ca_pem)
    secretary = world.person("secretary")
    answer = upload(api_as, world.admin, secretary, pki.p12(ca=pki.other_ca))
    assert answer.status_code == 422
    assert answer.json()["error"] == "certificate_untrusted"
    answer = upload(api_as, world.admin, secretary, pki.p12())
    assert answer.status_code == 201
    assert answer.json()["chain_checked"] is True


def test_without_trust_anchors_key_is_accepted_unchecked(world, pki, settings):
    settings.TASPA_TRUST_ANCHORS = None
    key = actions.register_signing_key(
        actor=world.admin, user=world.person("judge"), p12=pki.p12(ca=pki.other_ca),
        password=PASSWORD,
    )  # fmt: skip
    assert key.chain_checked is False


def test_r14_revoked_key_cannot_sign(world, api_as, pki):
    secretary = world.person("secretary")
    key = actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12(), password=PASSWORD
    )
    actions.revoke_signing_key(actor=world.admin, key=key)
    with pytest.raises(actions.SigningUnavailable) as refused:
        actions.signer_for(secretary)
    assert refused.value.code == "signing_key_revoked"
    assert AuditEvent.objects.filter(action="signing_key.revoke").count() == 1


def test_revoke_via_api_and_permission(world, api_as, pki):
    secretary = world.person("secretary")
    actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12(), password=PASSWORD
    )
    path = f"/api/v1/users/{secretary.pk}/signing-key"
    client = api_as(secretary)
    assert client.client.delete(path, headers=client.headers).status_code == 403
    client = api_as(world.person("court_admin"))
    answer = client.client.delete(path, headers=client.headers)
    assert answer.status_code == 200
    assert answer.json()["revoked_at"]
    assert client.client.delete(path, headers=client.headers).status_code == 404


def test_r14_missing_and_expired_keys_refused(world, pki):
    secretary = world.person("secretary")
    with pytest.raises(actions.SigningUnavailable) as refused:
        actions.signer_for(secretary)
    assert refused.value.code == "signing_key_missing"
    key = actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12(), password=PASSWORD
    )
    SigningKey.objects.filter(pk=key.pk).update(not_after=key.not_before)
    with pytest.raises(actions.SigningUnavailable) as refused:
        actions.signer_for(secretary)
    assert refused.value.code == "signing_key_expired"


def test_new_key_supersedes_the_old_one(world, pki):
    secretary = world.person("secretary")
    old = actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12("rsa2048"), password=PASSWORD
    )
    new = actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12(), password=PASSWORD
    )
    old.refresh_from_db()
    assert old.revoked_at is not None and new.revoked_at is None
    assert actions.signer_for(secretary).certificate.serial_number == int(new.serial, 16)


def test_r20_database_holds_no_usable_key(world, pki):
    secretary = world.person("secretary")
    key = actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12(), password=PASSWORD
    )
    blob = bytes(SigningKey.objects.get(pk=key.pk).encrypted_key)
    assert blob.startswith(keystore.MAGIC)
    assert b"PRIVATE" not in blob and PASSWORD.encode() not in blob
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sealing_signingkey")
        assert PASSWORD not in repr(cursor.fetchall())
    # Bound to its owner: the same blob on another user's row does not open.
    with pytest.raises(keystore.KeyDecryptionError):
        keystore.unseal_key(blob, user_id=world.admin.pk, fingerprint=key.fingerprint)


def test_r20_kek_file_is_private_and_env_kek_is_used(world, pki, monkeypatch, settings):
    keystore.key_encryption_key()
    mode = stat.S_IMODE(os.stat(os.path.join(settings.TASPA_HOME, "kek")).st_mode)
    assert mode == 0o600
    secretary = world.person("secretary")
    monkeypatch.setenv("TASPA_KEY_ENCRYPTION_KEY", "ab" * 32)
    actions.register_signing_key(
        actor=world.admin, user=secretary, p12=pki.p12(), password=PASSWORD
    )
    assert actions.signer_for(secretary)
    monkeypatch.setenv("TASPA_KEY_ENCRYPTION_KEY", "cd" * 32)
    with pytest.raises(actions.SigningUnavailable) as refused:
        actions.signer_for(secretary)
    assert refused.value.code == "signing_key_unreadable"


def test_require_is_checked_before_reading_the_file(world):
    with pytest.raises(Forbidden):
        actions.register_signing_key(
            actor=world.person("judge"), user=world.person("secretary"), p12=b"", password=""
        )
