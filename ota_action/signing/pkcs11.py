"""Key source 2: a P-256 key inside a PKCS#11 token (an HSM, a smart card, SoftHSM2).

The private key never leaves the token: the token signs the SHA-256 digest with
``CKM_ECDSA`` and returns raw ``r ‖ s`` (PKCS#11 v2.40 section 2.3.1).  The public key
is read from the public-key object beside it (same label / id), so every signature is
checked before use (:func:`~ota_action.signing.port.sign_checked`).

Library: ``python-pkcs11`` (see docs/signing.md for why, beside ``PyKCS11``).  It is
imported only here, when a URI is given.  Its exceptions are mapped to one-line
:class:`InputError` messages naming the option; their texts are never shown (a module's
message could repeat anything it was given) and they are chained ``from None``.  The
PIN is a :class:`~ota_action.secret.Secret`, revealed only in the call that logs in;
object handles are never printed.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from ota_action.errors import InputError
from ota_action.signing.pkcs11_uri import Pkcs11Uri
from ota_action.signing.port import Signature

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.secret import Secret

# DER of the OID 1.2.840.10045.3.1.7 (prime256v1): the CKA_EC_PARAMS of a P-256 key.
P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
# Token attributes a URI may match, and the python-pkcs11 Token/Slot attribute for each.
_TOKEN_MATCH = {"token": "label", "manufacturer": "manufacturer_id", "serial": "serial", "model": "model"}
_SLOT_MATCH = {"slot-description": "slot_description", "slot-manufacturer": "manufacturer_id"}


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def _matches(uri: Pkcs11Uri, slot: Any, token: Any) -> bool:
    for name, attribute in _TOKEN_MATCH.items():
        wanted = uri.get(name)
        if wanted is not None and _text(getattr(token, attribute, "")) != wanted.strip():
            return False
    for name, attribute in _SLOT_MATCH.items():
        wanted = uri.get(name)
        if wanted is not None and _text(getattr(slot, attribute, "")) != wanted.strip():
            return False
    slot_id = uri.get("slot-id")
    return slot_id is None or str(slot.slot_id) == slot_id.strip()


def load_module(module_path: str, *, field: str) -> Any:
    """The PKCS#11 module (python-pkcs11 keeps one instance per path in a process)."""
    try:
        import pkcs11
    except ImportError:  # pragma: no cover - a runtime dependency
        raise InputError(
            "needs the python-pkcs11 package: pip install 'ota-action[pkcs11]'", field=field
        ) from None
    try:
        return pkcs11.lib(module_path)
    except Exception:
        raise InputError(
            f"the PKCS#11 module {module_path!r} cannot be loaded (not found, or not a PKCS#11 library)",
            field=field,
        ) from None


def find_token(lib: Any, uri: Pkcs11Uri, *, field: str) -> Any:
    """The one token the URI's attributes match, or an InputError that says why not."""
    try:
        slots = list(lib.get_slots(token_present=True))
        found = [(slot, slot.get_token()) for slot in slots]
    except Exception as exc:
        raise InputError(
            f"the PKCS#11 module cannot list its tokens ({type(exc).__name__})", field=field
        ) from None
    matching = [token for slot, token in found if _matches(uri, slot, token)]
    if not matching:
        labels = sorted({_text(t.label) for _, t in found if _text(t.label)})
        have = f"the module has {', '.join(repr(label) for label in labels)}" if labels else "it has none"
        raise InputError(f"no token matches {uri.shown()} ({have})", field=field)
    if len(matching) > 1:
        raise InputError(
            f"{len(matching)} tokens match {uri.shown()}; add token=, serial= or slot-id= to pick one",
            field=field,
        )
    return matching[0]


def login(token: Any, pin: Secret | None, uri: Pkcs11Uri, *, field: str, rw: bool = False) -> Any:
    """A session on ``token``, logged in with ``pin`` when one is given (the caller closes it)."""
    from pkcs11 import TokenFlag, exceptions

    if pin is None and token.flags & TokenFlag.LOGIN_REQUIRED:
        raise InputError(
            f"the token of {uri.shown()} needs a PIN: put it in the secret OTA_PKCS11_PIN "
            "(Action input signing-key-pin)",
            field=field,
        )
    where = pin.source if pin is not None else ""
    try:
        return token.open(rw=rw, user_pin=None if pin is None else pin.reveal())
    except exceptions.UserAlreadyLoggedIn:
        # Login is per token for the whole process (PKCS#11 v2.40 5.6): another session of
        # ours (``build`` signing with two keys of one token) logged in; this one shares it.
        return _open_again(token, rw, uri, field)
    except exceptions.PinIncorrect:
        raise InputError(
            f"the PIN in {where} is not the PIN of the token of {uri.shown()}", field=field
        ) from None
    except exceptions.PinLocked:
        raise InputError(
            f"the PIN of the token of {uri.shown()} is locked (too many wrong PINs)", field=field
        ) from None
    except (exceptions.PinLenRange, exceptions.PinInvalid):
        raise InputError(f"the PIN in {where} is not a valid PIN for this token", field=field) from None
    except Exception as exc:
        raise InputError(
            f"cannot open a session on the token of {uri.shown()} ({type(exc).__name__})", field=field
        ) from None


def _open_again(token: Any, rw: bool, uri: Pkcs11Uri, field: str) -> Any:
    try:
        return token.open(rw=rw)
    except Exception as exc:
        raise InputError(
            f"cannot open a session on the token of {uri.shown()} ({type(exc).__name__})", field=field
        ) from None


def close_session(session: Any) -> None:
    with suppress(Exception):  # a closing failure must not hide the real outcome
        session.close()


def _selector(uri: Pkcs11Uri) -> dict[str, Any]:
    selector: dict[str, Any] = {}
    if (label := uri.get("object")) is not None:
        selector["label"] = label
    if (key_id := uri.raw("id")) is not None:
        selector["id"] = key_id
    return selector


def _point(raw: bytes) -> bytes:
    """The X9.62 point from CKA_EC_POINT: DER OCTET STRING (the standard) or bare."""
    if len(raw) == 67 and raw[:2] == b"\x04\x41":
        return raw[2:]
    return raw


def public_key_of(session: Any, uri: Pkcs11Uri, private: Any, field: str) -> EllipticCurvePublicKey | None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from pkcs11 import Attribute, ObjectClass

    candidates: list[Any] = []
    try:
        candidates = list(
            session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, **object_attributes(uri)})
        )
    except Exception:
        candidates = []
    for holder in (*candidates, private):
        try:
            params, point = holder[Attribute.EC_PARAMS], holder[Attribute.EC_POINT]
        except Exception:  # noqa: S112 - an object without the attribute: try the next
            continue
        if bytes(params) != P256_PARAMS:
            raise InputError(f"the key {uri.shown()} is not on curve P-256 (secp256r1)", field=field)
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _point(bytes(point)))
        except ValueError:
            raise InputError(
                f"the public key beside {uri.shown()} is not a valid P-256 point", field=field
            ) from None
    return None


def object_attributes(uri: Pkcs11Uri) -> dict[Any, Any]:
    from pkcs11 import Attribute

    names = {"label": Attribute.LABEL, "id": Attribute.ID}
    return {names[k]: v for k, v in _selector(uri).items()}


class Pkcs11Signer:
    """A :class:`~ota_action.signing.port.DigestSigner` over a private key in a token.

    Holds an open, logged-in session until :meth:`close`; the token may use a random
    nonce, so signatures are not reproducible (``deterministic`` is False).
    """

    __slots__ = ("_description", "_key", "_public", "_session")

    def __init__(self, session: Any, key: Any, public: EllipticCurvePublicKey, description: str):
        self._session = session
        self._key = key
        self._public = public
        self._description = description

    def __repr__(self) -> str:
        return f"Pkcs11Signer({self._description!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer holding a token session cannot be pickled")

    @property
    def description(self) -> str:
        return self._description

    @property
    def deterministic(self) -> bool:
        return False

    def public_key(self) -> EllipticCurvePublicKey:
        return self._public

    def sign_digest(self, digest: bytes) -> Signature:
        from pkcs11 import Mechanism

        try:
            raw = bytes(self._key.sign(digest, mechanism=Mechanism.ECDSA))
            return Signature.from_raw(raw)
        except ValueError:
            raise InputError(f"{self._description} returned a signature that is not 64 bytes r ‖ s") from None
        except Exception as exc:
            raise InputError(f"{self._description} refused to sign ({type(exc).__name__})") from None

    def close(self) -> None:
        close_session(self._session)


def open_signer(
    module_path: str,
    uri: Pkcs11Uri,
    pin: Secret | None,
    *,
    field: str,
    expected: EllipticCurvePublicKey | None = None,
) -> Pkcs11Signer:
    """Log in and find the key ``uri`` names; the caller closes the signer."""
    from pkcs11 import KeyType

    token = find_token(load_module(module_path, field=field), uri, field=field)
    session = login(token, pin, uri, field=field)
    try:
        key = private_key(session, uri, pin, field=field)
        if key.key_type != KeyType.EC:
            raise InputError(f"the key {uri.shown()} is not an EC key; XBee signing needs P-256", field=field)
        public = public_key_of(session, uri, key, field) or expected
        if public is None:
            raise InputError(
                f"the token holds no public key beside {uri.shown()}; give it with --expect-public-key",
                field=field,
            )
        return Pkcs11Signer(session, key, public, f"PKCS#11 key {uri.shown()}")
    except BaseException:
        close_session(session)
        raise


def private_key(session: Any, uri: Pkcs11Uri, pin: Secret | None, *, field: str) -> Any:
    """The one private key ``uri`` names in the session's token, or an InputError saying why not."""
    from pkcs11 import ObjectClass, exceptions

    try:
        return session.get_key(object_class=ObjectClass.PRIVATE_KEY, **_selector(uri))
    except exceptions.NoSuchKey:
        hint = "" if pin is not None else " (without a PIN, private keys are hidden: set OTA_PKCS11_PIN)"
        raise InputError(f"no private key matches {uri.shown()} in its token{hint}", field=field) from None
    except exceptions.MultipleObjectsReturned:
        raise InputError(
            f"several private keys match {uri.shown()}; add id= to pick one", field=field
        ) from None


def generate_in_token(
    module_path: str, uri: Pkcs11Uri, pin: Secret | None, *, field: str
) -> EllipticCurvePublicKey:
    """Create a P-256 key pair in the token (private key sensitive, never extractable)."""
    from pkcs11 import Attribute, KeyType, ObjectClass

    token = find_token(load_module(module_path, field=field), uri, field=field)
    if pin is None:
        raise InputError("creating a key in a token needs its PIN: put it in OTA_PKCS11_PIN", field=field)
    session = login(token, pin, uri, field=field, rw=True)
    try:
        existing = list(
            session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, **object_attributes(uri)})
        )
        if existing:
            raise InputError(
                f"the token already holds a key {uri.shown()}; keygen never replaces a key", field=field
            )
        try:
            parameters = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: P256_PARAMS}, local=True
            )
            _public, private = parameters.generate_keypair(
                store=True,
                **_selector(uri),
                private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
            )
        except Exception as exc:
            raise InputError(
                f"the token could not create the key ({type(exc).__name__})", field=field
            ) from None
        found = public_key_of(session, uri, private, field)
    finally:
        close_session(session)
    if found is None:  # pragma: no cover - the token just stored it
        raise InputError("the token did not keep the public key it generated", field=field)
    return found
