"""Results of the XBee3 commands: ``xbee-fs`` (a signed file-system OTA file) and ``keygen``."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ota_action.formats.xbee import describe_version
from ota_action.records import field, record
from ota_action.results.base import Result, hex_text, md_escape, md_table, sha_markdown
from ota_action.results.summary import OtaSummary
from ota_action.results.written import FileWritten
from ota_action.secret import Secret
from ota_action.signing.keys import CURVE_TEXT

_NOT_REPRODUCIBLE = (
    "  Reproducible: all but the signature (the key source may use a random nonce; the "
    "signed image is the same every run, the header's sizes follow the signature's length)"
)


@record(kw_only=True)
class XbeeFsResult(FileWritten):
    """A signed XBee3 file-system OTA file written."""

    command = "xbee-fs"
    image: Path
    image_size: int
    padded_size: int
    signature_length: int
    signature_form: str  # "as signed", or how it was changed to fit 70-72 bytes
    signature: str  # the one-line description: algorithm, length, form, key fingerprint
    public_key_fingerprint: str
    fk: str  # the device's ATFK value: the uncompressed point, upper-case hex
    key_form: str  # how the key was given, e.g. "PEM (PKCS#8)", "PKCS#11 token", "signer command"
    ota: OtaSummary
    # True when the same inputs give the same bytes again (RFC 6979 with a key we hold);
    # an HSM or KMS may use random nonces: then only the signature differs between runs.
    reproducible: bool = True

    @property
    def padding(self) -> int:
        return self.padded_size - self.image_size

    def data(self) -> dict[str, object]:
        return {
            "outfile": str(self.outfile),
            "size": self.size,
            "sha256": self.sha256,
            "image": str(self.image),
            "image_size": self.image_size,
            "padded_size": self.padded_size,
            "padding": self.padding,
            "signature_length": self.signature_length,
            "signature_form": self.signature_form,
            "signature": self.signature,
            "public_key_fingerprint": self.public_key_fingerprint,
            "fk": self.fk,
            "key_form": self.key_form,
            "reproducible": self.reproducible,
            **describe_version(self.ota.header.file_version),
            **self.ota.to_json(),
        }

    def lines(self) -> list[str]:
        file_version = self.ota.header.file_version
        version_facts = describe_version(file_version)
        # The VR reading replaces the dotted one: 1.0.16.13 means nothing on an XBee.
        version = f"{hex_text(file_version, 8)} (VR {version_facts['vr']}, "
        version += f"compatibility {version_facts['compatibility']}"
        version += f", {version_facts['protocol']})" if version_facts["protocol"] else ")"
        return [
            *self.ota.text_lines(),
            "XBee3 file system:",
            f"  Image: {self.image} ({self.image_size} bytes)",
            f"  Padded to: {self.padded_size} bytes ({self.padding} x 0xFF)",
            f"  Signature: {self.signature_length} bytes DER, {self.signature_form}",
            f"  File version: {version}",
            f"  Key: {self.key_form}, fingerprint (sha256 of FK) {self.public_key_fingerprint}",
            f"  FK (device public key): {self.fk}",
            *([] if self.reproducible else [_NOT_REPRODUCIBLE]),
            f"File size: {self.size} bytes",
            f"SHA-256: {self.sha256}",
            f"XBee3 file-system OTA image saved to: {self.outfile}",
        ]

    verdict_word: ClassVar[str] = "written"

    def verdict_facts(self) -> list[str]:
        return [f"{self.outfile}, {self.size} bytes", f"signature {self.signature_length} bytes DER"]

    def markdown_body(self) -> list[str]:
        return [
            *self.ota.markdown_lines(self.outfile, self.size),
            "",
            f"**Signature:** {md_escape(self.signature)}",
            *sha_markdown(self.sha256),
        ]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {**super().output_values(workspace), **self.ota.output_values()}


@record(kw_only=True)
class KeygenResult(Result):
    """A P-256 key pair made: in files (the private key rides along on purpose, printed
    once for a CI secret, as a :class:`Secret`: ``repr()`` of the result never shows it),
    or inside a PKCS#11 token (``key_uri``; the private key never leaves it)."""

    command = "keygen"
    private_out: Path | None
    public_out: Path | None
    fk: str
    public_key_fingerprint: str
    public_key_pem: str
    private_key_base64: Secret | None = field(default=None, repr=False)
    key_uri: str | None = None  # the URI as shown (no PIN, no module path)

    verdict_word: ClassVar[str] = "written"

    def verdict_facts(self) -> list[str]:
        return [f"private key {self.private_out}" if self.key_uri is None else f"key {self.key_uri}"]

    @property
    def atfk(self) -> str:
        return f"ATFK{self.fk}"

    @property
    def gbl_tokens(self) -> tuple[str, str]:
        """The public key as a Silicon Labs device holds it to check signed GBLs: the lines
        Commander's token file has (``commander util keytotoken``, ``util genkey
        --tokenfile``), the X and Y coordinates big-endian, for ``commander flash --tokenfile``.
        The FK is ``04 || X || Y``."""
        return (
            f"MFG_SIGNED_BOOTLOADER_KEY_X : {self.fk[2:66]}",
            f"MFG_SIGNED_BOOTLOADER_KEY_Y : {self.fk[66:130]}",
        )

    def data(self) -> dict[str, object]:
        return {
            "private_out": None if self.private_out is None else str(self.private_out),
            "public_out": None if self.public_out is None else str(self.public_out),
            "key_uri": self.key_uri,
            "curve": CURVE_TEXT,
            "fk": self.fk,
            "atfk": self.atfk,
            "gbl_tokens": list(self.gbl_tokens),
            "public_key_fingerprint": self.public_key_fingerprint,
            "public_key_pem": self.public_key_pem,
            "private_key_base64": None
            if self.private_key_base64 is None
            else self.private_key_base64.reveal(),
        }

    def lines(self) -> list[str]:
        if self.key_uri is not None:
            lines = [f"P-256 key created in the token: {self.key_uri} (the private key never leaves it)"]
        else:
            lines = [f"P-256 private key written to: {self.private_out} (mode 0600)"]
        if self.public_out is not None:
            lines.append(f"Public key written to: {self.public_out}")
        lines += [
            f"Public key fingerprint (sha256 of FK): {self.public_key_fingerprint}",
            "Public key (for verify --public-key and --expect-public-key):",
            *(f"  {line}" for line in self.public_key_pem.strip().splitlines()),
            "Program it into each Silicon Labs device that checks GBL signatures (Commander token "
            "file lines, for commander flash --tokenfile FILE):",
            *(f"  {line}" for line in self.gbl_tokens),
            "Set it on each XBee3 (local command mode, then ATWR):",
            f"  {self.atfk}",
        ]
        if self.private_key_base64 is not None:
            lines += [
                "Private key for a CI secret (one line of base64; this is the only time it is shown "
                "- keep it secret):",
                f"  {self.private_key_base64.reveal()}",
            ]
        return lines

    def markdown_body(self) -> list[str]:
        # A step summary is kept with the run: it never holds the private key.
        rows: list[tuple[str, object]] = [
            ("Private key", self.key_uri or self.private_out or "-"),
            ("Public key file", self.public_out or "-"),
            ("Curve", CURVE_TEXT),
            ("Public key fingerprint", self.public_key_fingerprint),
            ("ATFK", self.atfk),
            ("GBL tokens", "<br>".join(self.gbl_tokens)),
        ]
        return md_table(["Field", "Value"], rows)

    def written(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.private_out, self.public_out) if p is not None)
