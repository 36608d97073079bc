"""RFC 7512 PKCS#11 URIs: ``pkcs11:token=ci;object=xbee?module-path=/usr/lib/softhsm/libsofthsm2.so``.

Parsed by hand (about fifty lines): neither ``python-pkcs11`` nor ``PyKCS11`` parses
URIs, and the grammar is small - path attributes separated by ``;``, query attributes
by ``&``, values percent-encoded (``id`` is raw bytes: ``id=%01%02``).

A PIN never belongs in the text: ``pin-value`` and ``pin-source`` are refused (the PIN
comes from a secret: ``OTA_PKCS11_PIN`` or the Action input ``signing-key-pin``), so the
URI can be shown in messages and logs as given.  :meth:`Pkcs11Uri.shown` is that form,
and the refusal never repeats the URI.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes

from ota_action.errors import InputError
from ota_action.records import record

SCHEME = "pkcs11:"
# RFC 7512 section 2.3: the attributes a URI may carry (vendor ones start with "x-").
PATH_ATTRIBUTES = frozenset(
    {
        "token",
        "manufacturer",
        "serial",
        "model",
        "library-manufacturer",
        "library-description",
        "library-version",
        "object",
        "type",
        "id",
        "slot-manufacturer",
        "slot-description",
        "slot-id",
    }
)
QUERY_ATTRIBUTES = frozenset({"module-name", "module-path", "pin-source", "pin-value"})
SECRET_ATTRIBUTES = frozenset({"pin-source", "pin-value"})
_NAME = re.compile(r"[a-z][a-z0-9-]*")


@record
class Pkcs11Uri:
    """The attributes of a PKCS#11 URI that pick a token and a key (values decoded)."""

    path: tuple[tuple[str, bytes], ...]
    query: tuple[tuple[str, bytes], ...]

    def get(self, name: str) -> str | None:
        value = self.raw(name)
        return None if value is None else value.decode("utf-8", "replace")

    def raw(self, name: str) -> bytes | None:
        for key, value in (*self.path, *self.query):
            if key == name:
                return value
        return None

    @property
    def module_path(self) -> str | None:
        return self.get("module-path")

    def shown(self) -> str:
        """The URI as messages show it: the token and key attributes, no module path."""
        parts = [f"{k}={quote(v, safe='')}" for k, v in self.path]
        return SCHEME + ";".join(parts)


def _attributes(text: str, separator: str, known: frozenset[str], field: str) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for part in filter(None, text.split(separator)):
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not eq or not _NAME.fullmatch(name):
            raise InputError(
                "is not a PKCS#11 URI (RFC 7512): each attribute is name=value, e.g. "
                "pkcs11:token=ci;object=xbee",
                field=field,
            )
        if name in SECRET_ATTRIBUTES:
            raise InputError(
                f"holds {name}; a PIN never goes in the URI (it is shown in logs): put it in "
                "the secret OTA_PKCS11_PIN (Action input signing-key-pin)",
                field=field,
            )
        if name not in known and not name.startswith("x-"):
            raise InputError(
                f"has the attribute {name!r}, which RFC 7512 does not define here "
                f"(path: {', '.join(sorted(PATH_ATTRIBUTES))}; query: module-name, module-path)",
                field=field,
            )
        if any(key == name for key, _ in found):
            raise InputError(f"gives the attribute {name} twice", field=field)
        found.append((name, unquote_to_bytes(value)))
    return found


def parse_uri(text: str, *, field: str) -> Pkcs11Uri:
    """The attributes of ``pkcs11:…``, or an InputError naming ``field`` (never the text)."""
    stripped = text.strip()
    if not stripped.lower().startswith(SCHEME):
        raise InputError("is not a PKCS#11 URI: it starts with pkcs11: (RFC 7512)", field=field)
    body = stripped[len(SCHEME) :]
    path_text, _, query_text = body.partition("?")
    path = _attributes(path_text, ";", PATH_ATTRIBUTES, field)
    query = _attributes(query_text, "&", QUERY_ATTRIBUTES, field)
    uri = Pkcs11Uri(tuple(path), tuple(query))
    kind = uri.get("type")
    if kind not in (None, "private"):
        raise InputError(
            f"names an object of type {kind!r}; signing needs type=private (or no type)", field=field
        )
    if uri.raw("object") is None and uri.raw("id") is None:
        raise InputError(
            "names no key: give object=LABEL or id=%NN (e.g. pkcs11:token=ci;object=xbee)", field=field
        )
    return uri
