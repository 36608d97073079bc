"""A PKCS#11 key of any MCUboot type: P-256 (:mod:`.pkcs11`), Ed25519 or RSA, told by the token.

The key's type is the private key object's ``CKA_KEY_TYPE`` (``CKK_EC``, ``CKK_EC_EDWARDS``,
``CKK_RSA``), never an option.  The token signs the SHA-256 digest as MCUboot wants:

* Ed25519: ``CKM_EDDSA`` over the 32-byte digest as the message (PKCS#11 v3.0 2.3.14),
  deterministic (RFC 8032), so a rebuild gives the same image;
* RSA: ``CKM_RSA_PKCS_PSS`` over the digest with ``hashAlg`` SHA-256, MGF1-SHA-256 and a
  32-byte salt (v2.40 2.1.14), random: not reproducible.

The public key comes from the public-key object beside it (Ed25519: ``CKA_EC_POINT``;
RSA: ``CKA_MODULUS``/``CKA_PUBLIC_EXPONENT``, which the private object also holds), so
every signature is checked before use (:func:`~.port.sign_checked_key`).  Exceptions
map to one-line messages as in :mod:`.pkcs11`; the PIN is never shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ota_action.errors import InputError
from ota_action.signing import algorithms, pkcs11
from ota_action.signing.port import P256KeySigner

if TYPE_CHECKING:
    from ota_action.secret import Secret
    from ota_action.signing.algorithms import PublicKey
    from ota_action.signing.pkcs11_uri import Pkcs11Uri

# CKA_EC_PARAMS of an Ed25519 key: the OID 1.3.101.112, or PrintableString "edwards25519".
ED25519_PARAMS = (bytes.fromhex("06032b6570"), b"\x13\x0cedwards25519")


class Pkcs11KeySigner:
    """A :class:`~ota_action.signing.port.KeySigner` over an Ed25519 or RSA key in a token."""

    __slots__ = ("_algorithm", "_description", "_key", "_public", "_session")

    def __init__(self, session: Any, key: Any, public: PublicKey, algorithm: str, description: str) -> None:
        self._session = session
        self._key = key
        self._public = public
        self._algorithm = algorithm
        self._description = description

    def __repr__(self) -> str:
        return f"Pkcs11KeySigner({self._algorithm!r}, {self._description!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer holding a token session cannot be pickled")

    @property
    def description(self) -> str:
        return self._description

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def deterministic(self) -> bool:
        return self._algorithm == algorithms.ED25519

    def public_key(self) -> PublicKey:
        return self._public

    def sign_digest(self, digest: bytes) -> bytes:
        from pkcs11 import MGF, Mechanism

        try:
            if self._algorithm == algorithms.ED25519:
                return bytes(self._key.sign(digest, mechanism=Mechanism.EDDSA))
            param = (Mechanism.SHA256, MGF.SHA256, algorithms.RSA_SALT)
            return bytes(self._key.sign(digest, mechanism=Mechanism.RSA_PKCS_PSS, mechanism_param=param))
        except Exception as exc:
            raise InputError(f"{self._description} refused to sign ({type(exc).__name__})") from None

    def close(self) -> None:
        pkcs11.close_session(self._session)


class ClosingP256(P256KeySigner):
    """A token's P-256 signer as a KeySigner that still closes its session."""

    __slots__ = ("_token",)

    def __init__(self, inner: pkcs11.Pkcs11Signer) -> None:
        super().__init__(inner)
        self._token = inner

    def close(self) -> None:
        self._token.close()


def _holders(session: Any, uri: Pkcs11Uri, private: Any) -> list[Any]:
    from pkcs11 import Attribute, ObjectClass

    try:
        found = list(
            session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, **pkcs11.object_attributes(uri)})
        )
    except Exception:
        found = []
    return [*found, private]


def _ed25519_public(session: Any, uri: Pkcs11Uri, private: Any, field: str) -> PublicKey | None:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from pkcs11 import Attribute

    for holder in _holders(session, uri, private):
        try:
            params, point = bytes(holder[Attribute.EC_PARAMS]), bytes(holder[Attribute.EC_POINT])
        except Exception:  # noqa: S112 - an object without the attribute: try the next
            continue
        if params not in ED25519_PARAMS:
            raise InputError(f"the key {uri.shown()} is an Edwards key but not Ed25519", field=field)
        raw = point[2:] if len(point) == 34 and point[:2] == b"\x04\x20" else point
        try:
            return ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise InputError(
                f"the public key beside {uri.shown()} is not an Ed25519 key", field=field
            ) from None
    return None


def _rsa_public(session: Any, uri: Pkcs11Uri, private: Any) -> PublicKey | None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from pkcs11 import Attribute

    for holder in _holders(session, uri, private):
        try:
            modulus, exponent = bytes(holder[Attribute.MODULUS]), bytes(holder[Attribute.PUBLIC_EXPONENT])
        except Exception:  # noqa: S112 - an object without the attribute: try the next
            continue
        numbers = rsa.RSAPublicNumbers(int.from_bytes(exponent, "big"), int.from_bytes(modulus, "big"))
        return numbers.public_key()
    return None


def _public(session: Any, uri: Pkcs11Uri, key: Any, field: str, *, what: str) -> tuple[str, PublicKey | None]:
    """The key's algorithm (refusing a type ``what`` cannot use) and the public key beside it."""
    from pkcs11 import KeyType

    if key.key_type == KeyType.EC_EDWARDS:
        return algorithms.ED25519, _ed25519_public(session, uri, key, field)
    if key.key_type == KeyType.RSA:
        public = _rsa_public(session, uri, key)
        algorithm = algorithms.algorithm_of(public) if public is not None else None
        if public is not None and algorithm is None:
            raise InputError(
                f"the key {uri.shown()} is {algorithms.describe(public)}; "
                f"{what} takes {algorithms.ALL_TEXT} keys",
                field=field,
            )
        return algorithm or algorithms.RSA_2048, public
    raise InputError(
        f"the key {uri.shown()} is of PKCS#11 key type {key.key_type!s}; {what} takes "
        f"{algorithms.ALL_TEXT} keys",
        field=field,
    )


def open_key_signer(
    module_path: str, uri: Pkcs11Uri, pin: Secret | None, *, field: str, what: str, expected: PublicKey | None
) -> Pkcs11KeySigner | ClosingP256:
    """Log in and open the key ``uri`` names, of whatever type it is; the caller closes it."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from pkcs11 import KeyType

    token = pkcs11.find_token(pkcs11.load_module(module_path, field=field), uri, field=field)
    session = pkcs11.login(token, pin, uri, field=field)
    description = f"PKCS#11 key {uri.shown()}"
    try:
        key = pkcs11.private_key(session, uri, pin, field=field)
        if key.key_type == KeyType.EC:
            ec_expected = expected if isinstance(expected, ec.EllipticCurvePublicKey) else None
            point = pkcs11.public_key_of(session, uri, key, field) or ec_expected
            if point is None:
                raise InputError(_NO_PUBLIC.format(uri=uri.shown()), field=field)
            return ClosingP256(pkcs11.Pkcs11Signer(session, key, point, description))
        algorithm, public = _public(session, uri, key, field, what=what)
        public = public or expected
        if public is None:
            raise InputError(_NO_PUBLIC.format(uri=uri.shown()), field=field)
        return Pkcs11KeySigner(
            session, key, public, algorithms.algorithm_of(public) or algorithm, description
        )
    except BaseException:
        pkcs11.close_session(session)
        raise


_NO_PUBLIC = "the token holds no public key beside {uri}; give it with --expect-public-key"
