"""RFC 4998 Evidence Record Syntax: hash trees, reduced hash trees and the DER encoding.

Pure (no Django). The tree is the one RFC 4998 §4.2 describes and Bouncy Castle's
``BinaryTreeRootCalculator`` builds: each leaf is a data object's hash, or for a data group
the hash of the binary-sorted concatenation of its members' hashes; leaves are sorted, paired
left to right, each pair hashed as the sorted concatenation of the two, and an odd node at the
end of a level goes up unchanged. A recording's *reduced* hash tree lists its group's hashes
first, then the one sibling hash of each level on the way to the root, so the record proves
that recording alone without disclosing the day's other recordings.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pyasn1_alt_modules import rfc4998, rfc5652

# hashlib names and their OIDs (RFC 5754, NIST); parameters are left absent, as RFC 5754 says.
ALGORITHMS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
    "sha3_256": "2.16.840.1.101.3.4.2.8",
    "sha3_384": "2.16.840.1.101.3.4.2.9",
    "sha3_512": "2.16.840.1.101.3.4.2.10",
}
_BY_OID = {oid: name for name, oid in ALGORITHMS.items()}


class MalformedRecord(ValueError):
    """Bytes that are not a DER RFC 4998 EvidenceRecord Taspa can read."""


def digest(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(algorithm, data).digest()


def group_hash(algorithm: str, hashes: list[bytes]) -> bytes:
    """A node of several hashes: the hash of their binary-sorted concatenation; one hash is
    itself (RFC 4998 §4.2 step 3)."""
    if len(hashes) == 1:
        return hashes[0]
    return digest(algorithm, b"".join(sorted(hashes)))


def branch_hash(algorithm: str, a: bytes, b: bytes) -> bytes:
    return digest(algorithm, min(a, b) + max(a, b))


def build_tree(algorithm: str, leaves: list[list[bytes]]) -> tuple[bytes, list[list[list[bytes]]]]:
    """The root over ``leaves`` (each a data group's member hashes) and, for each leaf in the
    order given, its reduced hash tree: ``[sorted group hashes, [sibling], [sibling], ...]``."""
    if not leaves:
        raise ValueError("a hash tree needs at least one leaf")
    paths: list[list[list[bytes]]] = [[sorted(group)] for group in leaves]
    # One node per entry: its hash and the leaves below it.
    level = sorted(
        ((group_hash(algorithm, group), [index]) for index, group in enumerate(leaves)),
        key=lambda node: node[0],
    )
    while len(level) > 1:
        upper = []
        for i in range(0, len(level) - 1, 2):
            (left, left_leaves), (right, right_leaves) = level[i], level[i + 1]
            for index in left_leaves:
                paths[index].append([right])
            for index in right_leaves:
                paths[index].append([left])
            upper.append((branch_hash(algorithm, left, right), left_leaves + right_leaves))
        if len(level) % 2:
            upper.append(level[-1])
        level = upper
    return level[0][0], paths


def recover_root(algorithm: str, reduced: list[list[bytes]]) -> bytes:
    """The root a reduced hash tree leads to (RFC 4998 §4.3 steps 3-4; Bouncy Castle's rule for
    a list of several hashes after the first: they count as one node, their group hash)."""
    node = group_hash(algorithm, reduced[0])
    for siblings in reduced[1:]:
        node = branch_hash(algorithm, node, group_hash(algorithm, siblings))
    return node


@dataclass(frozen=True)
class ArchiveStamp:
    """One ArchiveTimeStamp: its hash algorithm, reduced hash tree (empty when the timestamp
    is directly over the one object's hash) and the RFC 3161 token (DER ContentInfo)."""

    algorithm: str
    reduced: tuple[tuple[bytes, ...], ...]
    token: bytes

    @property
    def imprint(self) -> bytes:
        return token_info(self.token)["message_imprint"]["hashed_message"].native

    @property
    def gen_time(self) -> datetime:
        return token_info(self.token)["gen_time"].native

    def root(self) -> bytes:
        if not self.reduced:
            return self.imprint
        return recover_root(self.algorithm, [list(node) for node in self.reduced])

    def covers(self, hashes: list[bytes]) -> bool:
        """Whether every hash of a data group is in the first node (or, without a reduced
        tree, whether the group's hash is what was timestamped) — §4.3 step 2."""
        if not self.reduced:
            return group_hash(self.algorithm, hashes) == self.imprint
        first = set(self.reduced[0])
        return all(h in first for h in hashes)


@dataclass(frozen=True)
class Record:
    """An EvidenceRecord: chains of archive timestamps; a new chain is a hash-tree renewal
    (§5.3), a new stamp in the last chain a timestamp renewal (§5.2)."""

    chains: tuple[tuple[ArchiveStamp, ...], ...]

    @property
    def last(self) -> ArchiveStamp:
        return self.chains[-1][-1]

    def with_stamp(self, stamp: ArchiveStamp) -> Record:
        return Record((*self.chains[:-1], (*self.chains[-1], stamp)))

    def with_chain(self, stamp: ArchiveStamp) -> Record:
        return Record((*self.chains, (stamp,)))


def token_info(token: bytes) -> tsp.TSTInfo:
    content = cms.ContentInfo.load(token)
    if content["content_type"].native != "signed_data":
        raise MalformedRecord("the archive timestamp is not a CMS SignedData")
    info = content["content"]["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise MalformedRecord("the archive timestamp does not hold an RFC 3161 TSTInfo")
    return info


def token_signer_not_after(token: bytes) -> datetime | None:
    """When the certificate of the TSA that signed ``token`` expires (None when not included)."""
    signed = cms.ContentInfo.load(token)["content"]
    sid = signed["signer_infos"][0]["sid"]
    for choice in signed["certificates"] or []:
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            match = (
                cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native
            )
        else:
            match = cert.key_identifier == sid.chosen.native
        if match:
            return cert["tbs_certificate"]["validity"]["not_after"].native
    return None


def chains_hash(algorithm: str, chains: tuple[tuple[ArchiveStamp, ...], ...]) -> bytes:
    """H(DER of the ArchiveTimeStampSequence of ``chains``): what a hash-tree renewal binds
    each data hash to (§5.3: h' = H(h(d) + H(atsc)))."""
    return digest(algorithm, _sequence(chains))


def renewed_data_hash(algorithm: str, data_hash: bytes, previous_chains_hash: bytes) -> bytes:
    return digest(algorithm, data_hash + previous_chains_hash)


# DER encoding: by hand, for speed (a day's build encodes one record per recording, all with
# the same token, which pyasn1 would parse and re-encode each time); decoding: pyasn1-alt-modules'
# RFC 4998 module, strict. The tests check that pyasn1 re-encodes what this writes unchanged.

_SEQUENCE, _INTEGER, _OCTETS = 0x30, 0x02, 0x04
_CONTEXT_0, _CONTEXT_2 = 0xA0, 0xA2  # [0] and [2] IMPLICIT, constructed


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body + content


@functools.cache
def _oid(name: str) -> bytes:
    return der_encoder.encode(univ.ObjectIdentifier(ALGORITHMS[name]))


def _stamp(stamp: ArchiveStamp) -> bytes:
    # digestAlgorithm [0] IMPLICIT AlgorithmIdentifier: its content, parameters absent.
    parts = [_tlv(_CONTEXT_0, _oid(stamp.algorithm))]
    if stamp.reduced:
        nodes = (
            _tlv(_SEQUENCE, b"".join(_tlv(_OCTETS, h) for h in node)) for node in stamp.reduced
        )
        parts.append(_tlv(_CONTEXT_2, b"".join(nodes)))
    parts.append(stamp.token)
    return _tlv(_SEQUENCE, b"".join(parts))


def _sequence(chains) -> bytes:
    """DER of the ArchiveTimeStampSequence of ``chains``."""
    return _tlv(
        _SEQUENCE,
        b"".join(_tlv(_SEQUENCE, b"".join(_stamp(s) for s in chain)) for chain in chains),
    )


def encode(record: Record) -> bytes:
    """The DER EvidenceRecord."""
    names = dict.fromkeys(s.algorithm for chain in record.chains for s in chain)
    algorithms = _tlv(_SEQUENCE, b"".join(_tlv(_SEQUENCE, _oid(name)) for name in names))
    version = _tlv(_INTEGER, b"\x01")
    return _tlv(_SEQUENCE, version + algorithms + _sequence(record.chains))


def decode(data: bytes) -> Record:
    """The record in ``data``; ``MalformedRecord`` naming what is wrong, never another error."""
    try:
        value, rest = der_decoder.decode(data, asn1Spec=rfc4998.EvidenceRecord())
    except (PyAsn1Error, ValueError, TypeError, IndexError) as error:
        why = str(error).strip() or type(error).__name__
        raise MalformedRecord(f"not a DER EvidenceRecord: {why}") from None
    if rest:
        raise MalformedRecord(f"{len(rest)} bytes after the EvidenceRecord")
    if int(value["version"]) != 1:
        raise MalformedRecord(f"version {int(value['version'])}, expected v1")
    chains = []
    for chain in value["archiveTimeStampSequence"]:
        stamps = tuple(_read_stamp(stamp) for stamp in chain)
        if not stamps:
            raise MalformedRecord("an empty ArchiveTimeStampChain")
        chains.append(stamps)
    if not chains:
        raise MalformedRecord("no archive timestamps")
    # §3: digestAlgorithms lists every hash the archive timestamps used.
    listed = {str(a["algorithm"]) for a in value["digestAlgorithms"]}
    used = {ALGORITHMS[stamp.algorithm] for chain in chains for stamp in chain}
    if not used <= listed:
        raise MalformedRecord(f"digestAlgorithms {sorted(listed)} omits {sorted(used - listed)}")
    return Record(tuple(chains))


def _check_cms_rules(signed: rfc5652.SignedData) -> None:
    """RFC 5652 §5.1, §5.3 on the parts of a token its signature does not cover: version 3
    (the content is a TSTInfo), each signer's version by its identifier, and each signer's
    digest algorithm listed in ``digestAlgorithms``."""
    if int(signed["version"]) != 3:
        raise MalformedRecord(f"SignedData version {int(signed['version'])}, expected 3")
    listed = {bytes(der_encoder.encode(a)) for a in signed["digestAlgorithms"]}
    for info in signed["signerInfos"]:
        expected = 1 if info["sid"].getName() == "issuerAndSerialNumber" else 3
        if int(info["version"]) != expected:
            raise MalformedRecord(f"SignerInfo version {int(info['version'])}, expected {expected}")
        if bytes(der_encoder.encode(info["digestAlgorithm"])) not in listed:
            raise MalformedRecord("the signer's digest algorithm is not in digestAlgorithms")


def _read_stamp(stamp: rfc4998.ArchiveTimeStamp) -> ArchiveStamp:
    token = der_encoder.encode(stamp["timeStamp"])
    try:
        # Strict DER against the CMS module: a token bent where its signature does not reach
        # (its version, its unsigned digestAlgorithms) is refused, not silently accepted.
        signed, rest = der_decoder.decode(
            bytes(stamp["timeStamp"]["content"]), asn1Spec=rfc5652.SignedData()
        )
        if rest or der_encoder.encode(signed) != bytes(stamp["timeStamp"]["content"]):
            raise MalformedRecord("the timestamp token is not DER")
        _check_cms_rules(signed)
    except (PyAsn1Error, ValueError, TypeError) as error:
        raise MalformedRecord(f"unreadable timestamp token: {error}") from None
    try:
        imprint_algorithm = token_info(token)["message_imprint"]["hash_algorithm"]
        default = imprint_algorithm["algorithm"].dotted
    except (ValueError, TypeError, KeyError) as error:
        raise MalformedRecord(f"unreadable timestamp token: {error}") from None
    oid = (
        str(stamp["digestAlgorithm"]["algorithm"]) if stamp["digestAlgorithm"].isValue else default
    )
    if oid not in _BY_OID:
        raise MalformedRecord(f"unknown digest algorithm {oid}")
    reduced = ()
    if stamp["reducedHashtree"].isValue:
        reduced = tuple(tuple(bytes(h) for h in node) for node in stamp["reducedHashtree"])
        if not reduced or not all(reduced):
            raise MalformedRecord("an empty node in the reduced hash tree")
    return ArchiveStamp(_BY_OID[oid], reduced, token)
