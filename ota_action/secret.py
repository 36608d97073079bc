"""Secrets as values that never print themselves, from a front door to the key source.

A door (the CLI, the Action) finds the signing key, its passphrase and a token PIN
wherever the user put them and wraps each in a :class:`Secret` the moment it is taken,
knowing its *source* as the user named it ("input signing-key", "environment variable
OTA_SIGNING_KEY").  The command receives them in a :class:`KeyMaterial` argument, never
by looking a name up in ``os.environ``, and every message about a secret names that
source.  ``repr()``, ``str()`` and f-strings of a Secret show ``**********``, and a
Secret refuses to be pickled.  :meth:`Secret.reveal` gives the value to exactly three
kinds of caller: the key source that uses it (the key parser, the PKCS#11 login, the
signer command's runner), the Action's masking (it registers every form of the value
with ``::add-mask::``) and the filter that keeps it out of a child's environment.

This module imports nothing heavy: the Action builds Secrets before anything is printed.
"""

from __future__ import annotations

from typing import NoReturn

from ota_action.records import record

HIDDEN = "**********"


class Secret:
    """A secret string and where it came from; it never shows its value by accident."""

    __slots__ = ("_value", "field", "named_by_field", "source")

    def __init__(self, value: str, *, source: str, field: str | None = None, named_by_field: bool = False):
        self._value = value
        self.source = source  # how messages name it: "input signing-key"
        # The settings field (or Action input, spelt as a field) a message about it
        # should blame, and whether the door's name for that field already says where the
        # secret came from (an Action input does; --key-env does not name the variable).
        self.field = field
        self.named_by_field = named_by_field

    def reveal(self) -> str:
        """The value itself: for the signer, never for a message."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value.strip())

    def __repr__(self) -> str:
        return HIDDEN

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return HIDDEN

    def __reduce__(self) -> NoReturn:  # pickling would write the value somewhere
        raise TypeError("a Secret cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


@record
class KeyMaterial:
    """The signing secrets a door found, and how it tells a user where to put a missing key.

    ``missing`` completes "no signing key: ..." in the door's own words; ``missing_field``
    is the option or input that message blames; ``unlock_hint`` names where an
    encrypted key's passphrase should go.  ``pin`` unlocks a PKCS#11 token.
    ``encryption`` is a GBL's AES key (the variable ``--encrypt-key-env`` names): no
    signing secret, but found by the same door, so the Action masks it before the run.
    ``withheld`` are secrets of the same run that are not this signer's (a build's other
    keys): never used here, but kept from any child process as this signer's own are.
    """

    key: Secret | None = None
    passphrase: Secret | None = None
    missing: str = "no key source was given"
    missing_field: str | None = None
    unlock_hint: str = "environment variable OTA_SIGNING_KEY_PASSPHRASE"
    pin: Secret | None = None
    encryption: Secret | None = None
    withheld: tuple[Secret, ...] = ()

    def secrets(self) -> tuple[Secret, ...]:
        """Every secret this material holds (what a door masks)."""
        return tuple(s for s in (self.key, self.passphrase, self.pin, self.encryption) if s is not None)

    def kept_from_children(self) -> tuple[Secret, ...]:
        """What no child process may inherit: these secrets and the run's others."""
        return (*self.secrets(), *self.withheld)


NO_SECRETS = KeyMaterial()
