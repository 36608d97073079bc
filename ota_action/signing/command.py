"""Key source 3: an external signer command, two-phase like imgtool's digest-out/signature-in.

The command (a shell command line: a KMS CLI, a script) receives the SHA-256 digest as
hex on stdin and in the environment (``OTA_SIGN_DIGEST`` hex, ``OTA_SIGN_DIGEST_BASE64``)
and prints the signature in any form :mod:`.printed` reads.  The key stays in the KMS; we
hold only its public key (``--expect-public-key``), and every reading of the output is
checked against it, so a command that signs with another key is refused.

What the command prints, and everything it writes to stderr (a KMS error can name
accounts, key ARNs or tokens), is never shown, logged or kept: a failure says only
the exit status, the time limit or the size of what was printed.  Its environment is
the one the caller hands in (the caller removes every secret the tool was given).
It runs in its own process group and is killed, with its children, at the time limit.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

from ota_action.errors import InputError
from ota_action.signing.port import Signature, verifies
from ota_action.signing.printed import candidates, sized_candidates

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.secret import Secret
    from ota_action.signing.algorithms import PublicKey

OUTPUT_LIMIT = 64 * 1024  # bytes kept of stdout; a signature is at most a few hundred
DIGEST_VARIABLE = "OTA_SIGN_DIGEST"
DIGEST_BASE64_VARIABLE = "OTA_SIGN_DIGEST_BASE64"
_FIELD = "sign_command"
_NOT_SHOWN = "its output is not shown (it may hold secrets); run the command by hand to see it"


class _Capped:
    """Reads a pipe to its end in a thread, keeping only the first ``limit`` bytes."""

    def __init__(self, pipe: IO[bytes], limit: int) -> None:
        self.kept = bytearray()
        self.total = 0
        self._pipe = pipe
        self._limit = limit
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self._pipe.read(65536):
            self.total += len(chunk)
            room = self._limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the command and whatever it started (its process group on POSIX)."""
    try:
        if sys.platform != "win32":
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows: taskkill stops the tree
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(process.pid)],
                capture_output=True,
                timeout=10,
                check=False,
            )
    except (OSError, subprocess.SubprocessError):
        process.kill()


def run_signer(command: str, digest: bytes, environ: Mapping[str, str], timeout: float) -> bytes:
    """Run ``command`` for ``digest``; its stdout (at most :data:`OUTPUT_LIMIT` bytes)."""
    env = {
        **environ,
        DIGEST_VARIABLE: digest.hex(),
        DIGEST_BASE64_VARIABLE: base64.b64encode(digest).decode("ascii"),
    }
    try:
        process = subprocess.Popen(  # noqa: S602 - the user's own command line, run as written
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=sys.platform != "win32",  # its own process group, killed as one
        )
    except OSError as exc:
        raise InputError(f"cannot be started ({type(exc).__name__})", field=_FIELD) from None
    stdin, stdout = process.stdin, process.stdout
    if stdin is None or stdout is None:  # pragma: no cover - both are PIPE
        raise RuntimeError("Popen gave no pipes")
    reader = _Capped(stdout, OUTPUT_LIMIT)
    with contextlib.suppress(OSError):  # a command that does not read stdin has the variables
        stdin.write(digest.hex().encode("ascii") + b"\n")
        stdin.close()
    try:
        status = process.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.wait()
        raise InputError(
            f"did not finish within {timeout:g} seconds and was stopped (raise sign-timeout if the "
            "signer is slow)",
            field=_FIELD,
        ) from None
    reader.join(5)
    stdout.close()
    if status != 0:
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        hint = " (command not found?)" if status == 127 else ""
        raise InputError(f"{how}{hint}; {_NOT_SHOWN}", field=_FIELD)
    if reader.total > OUTPUT_LIMIT:
        raise InputError(f"printed {reader.total} bytes; a signature is at most a few hundred", field=_FIELD)
    return bytes(reader.kept)


class CommandSigner:
    """A :class:`~ota_action.signing.port.DigestSigner` that asks an external command.

    ``command`` is a :class:`~ota_action.secret.Secret`: its text may hold a key name or
    a token, so it is never shown.  The public key is the one the user expects; the
    signature is the reading of the output that verifies with it.
    """

    __slots__ = ("_command", "_environ", "_public", "_timeout")

    def __init__(
        self, command: Secret, public: EllipticCurvePublicKey, *, environ: Mapping[str, str], timeout: float
    ) -> None:
        self._command = command
        self._public = public
        self._environ = dict(environ)
        self._timeout = timeout

    def __repr__(self) -> str:
        return "CommandSigner('sign-command')"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer holding a command and its environment cannot be pickled")

    @property
    def description(self) -> str:
        return "sign-command"

    @property
    def deterministic(self) -> bool:
        return False  # a KMS or HSM behind it may use random nonces

    def public_key(self) -> EllipticCurvePublicKey:
        return self._public

    def sign_digest(self, digest: bytes) -> Signature:
        output = run_signer(self._command.reveal(), digest, self._environ, self._timeout)
        readings = candidates(output)
        if not readings:
            raise InputError(
                f"printed {len(output)} bytes that are not a P-256 signature (expected DER, raw r‖s, "
                f"or hex or base64 of either); {_NOT_SHOWN}",
                field=_FIELD,
            )
        for reading in readings:
            if verifies(self._public, reading, digest):
                return reading
        return readings[0]  # sign_checked refuses it, naming the expected key


class KeyCommandSigner:
    """A :class:`~ota_action.signing.port.KeySigner` for an Ed25519 or RSA key behind a command.

    The algorithm is the expected public key's (``--expect-public-key``); the command gets
    the same SHA-256 digest as for P-256 and prints the 64-byte Ed25519 signature of it, or
    the RSA-PSS one (``openssl pkeyutl`` in docs/payloads.md), raw or in hex or base64.
    """

    __slots__ = ("_algorithm", "_command", "_environ", "_public", "_timeout")

    def __init__(
        self,
        command: Secret,
        public: PublicKey,
        *,
        algorithm: str,
        environ: Mapping[str, str],
        timeout: float,
    ) -> None:
        self._command = command
        self._public = public
        self._algorithm = algorithm
        self._environ = dict(environ)
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"KeyCommandSigner({self._algorithm!r}, 'sign-command')"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer holding a command and its environment cannot be pickled")

    @property
    def description(self) -> str:
        return "sign-command"

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def deterministic(self) -> bool:
        return False  # whatever is behind the command may not be

    def public_key(self) -> PublicKey:
        return self._public

    def sign_digest(self, digest: bytes) -> bytes:
        from ota_action.signing.algorithms import SIGNATURE_SIZE, verifies

        size = SIGNATURE_SIZE[self._algorithm]
        output = run_signer(self._command.reveal(), digest, self._environ, self._timeout)
        readings = sized_candidates(output, size)
        if not readings:
            raise InputError(
                f"printed {len(output)} bytes that are not a {size}-byte {self._algorithm} signature "
                f"(expected the raw bytes, or hex or base64 of them); {_NOT_SHOWN}",
                field=_FIELD,
            )
        for reading in readings:
            if verifies(self._public, reading, digest):
                return reading
        return readings[0]  # sign_checked_key refuses it, naming the expected key
