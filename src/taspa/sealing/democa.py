"""A demo certification authority and PKCS#12 keys for demo users and tests (R14).

Real courts use certificates of the national certification authority (NCA RK); ``taspa demo``
and the test suite use this throw-away CA instead. Nothing here is for production keys.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyType(enum.StrEnum):
    RSA_2048 = "rsa2048"
    EC_P256 = "ec-p256"


def new_key(key_type: KeyType | str) -> PrivateKey:
    """A fresh private key of the requested type."""
    if KeyType(key_type) == KeyType.RSA_2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organisation: str = "Taspa demo") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass(frozen=True)
class DemoCA:
    """A CA key and its self-signed certificate."""

    key: PrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def create_ca(
    common_name: str = "Taspa Demo Root CA",
    *,
    key_type: KeyType | str = KeyType.EC_P256,
    valid_days: int = 3650,
) -> DemoCA:
    """A self-signed root CA, valid from an hour ago for ``valid_days``."""
    key = new_key(key_type)
    now = datetime.now(UTC)
    name = _name(common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return DemoCA(key=key, certificate=cert)


def issue_certificate(
    ca: DemoCA,
    key: PrivateKey,
    *,
    common_name: str,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> x509.Certificate:
    """An end-entity signing certificate (digitalSignature + nonRepudiation) for ``key``; with
    ``ocsp_url`` / ``crl_url`` it names its CA's OCSP responder (authorityInfoAccess) and CRL
    (cRLDistributionPoints), as NCA certificates do."""
    now = datetime.now(UTC)
    not_before = not_before or now - timedelta(hours=1)
    not_after = not_after or now + timedelta(days=365)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, "Taspa demo court"))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    if ocsp_url:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def issue_p12(
    ca: DemoCA,
    *,
    common_name: str,
    password: str,
    key_type: KeyType | str = KeyType.EC_P256,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> bytes:
    """A password-protected PKCS#12 file: a new key, its certificate and the CA certificate.

    Pass ``not_after`` in the past for an expired certificate (tests of R14 refusals).
    """
    key = new_key(key_type)
    cert = issue_certificate(
        ca,
        key,
        common_name=common_name,
        not_before=not_before,
        not_after=not_after,
        ocsp_url=ocsp_url,
        crl_url=crl_url,
    )
    return pkcs12.serialize_key_and_certificates(
        name=common_name.encode("utf-8"),
        key=key,
        cert=cert,
        cas=[ca.certificate],
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode("utf-8")),
    )


@dataclass(frozen=True)
class DemoPki:
    """Files written by ``write_demo_pki``: the CA certificate and one .p12 per user."""

    ca: DemoCA
    ca_pem_path: Path
    p12_paths: dict[str, Path]


def write_demo_pki(
    directory: Path,
    users: dict[str, str],
    *,
    password: str,
    key_type: KeyType | str = KeyType.EC_P256,
) -> DemoPki:
    """Write ``ca.pem`` and ``<username>.p12`` for each ``{username: full name}`` (0600 keys)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = create_ca()
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca.pem)
    paths = {}
    for username, full_name in users.items():
        path = directory / f"{username}.p12"
        path.write_bytes(issue_p12(ca, common_name=full_name, password=password, key_type=key_type))
        path.chmod(0o600)
        paths[username] = path
    return DemoPki(ca=ca, ca_pem_path=ca_path, p12_paths=paths)


@dataclass(frozen=True)
class DemoTsa:
    """A time-stamping authority's RSA key and certificate, for a local RFC 3161 service in
    tests and demos (pyHanko's ``DummyTimeStamper`` signs with RSA only)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def timestamper(self, fixed_dt: datetime | None = None):
        """A pyHanko ``DummyTimeStamper`` answering timestamp requests as this TSA (its clock
        stopped at ``fixed_dt`` when given: a TSA of some future year in tests)."""
        from asn1crypto import keys
        from asn1crypto import x509 as asn1_x509

        key_der = self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return _demo_timestamper_class()(
            tsa_cert=asn1_x509.Certificate.load(
                self.certificate.public_bytes(serialization.Encoding.DER)
            ),
            tsa_key=keys.PrivateKeyInfo.load(key_der),
            fixed_dt=fixed_dt,
        )


@functools.cache
def _demo_timestamper_class() -> type:
    """Built on first use: pyHanko is imported only when a demo TSA is."""
    from asn1crypto import cms, core
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import general
    from pyhanko.sign.general import get_pyca_cryptography_hash, simple_cms_attribute
    from pyhanko.sign.timestamps import DummyTimeStamper

    class DemoTimeStamper(DummyTimeStamper):
        """pyHanko's test TSA, with a signingTime that is a GeneralizedTime from 2050 on (RFC
        5652 §11.3; pyHanko's writes UTCTime, which ends in 2049): renewals decades ahead."""

        def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime):
            if dt.year < 2050:
                return super()._sign_tst_info(tst_info_data, md_algorithm, dt)
            digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
            digest.update(tst_info_data)
            signed_attrs = cms.CMSAttributes(
                [
                    simple_cms_attribute("content_type", "tst_info"),
                    simple_cms_attribute(
                        "signing_time", cms.Time({"generalized_time": core.GeneralizedTime(dt)})
                    ),
                    simple_cms_attribute(
                        "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                    ),
                    simple_cms_attribute("message_digest", digest.finalize()),
                ]
            )
            key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
            signature = key.sign(
                signed_attrs.dump(),
                PKCS1v15(),
                get_pyca_cryptography_hash(md_algorithm.upper()),
            )
            return signature, signed_attrs

    return DemoTimeStamper


def issue_tsa(
    ca: DemoCA,
    common_name: str = "Taspa Demo TSA",
    *,
    days: int = 365,
    not_before: datetime | None = None,
) -> DemoTsa:
    """A TSA certificate under ``ca``, valid ``days`` from ``not_before`` (default: an hour
    ago): RSA, extendedKeyUsage timeStamping only and critical, as RFC 3161 §2.3 requires
    (``openssl ts -verify`` checks it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = not_before or datetime.now(UTC) - timedelta(hours=1)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(hours=1, days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return DemoTsa(key=key, certificate=cert)
