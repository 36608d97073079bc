"""Stand-ins for the KMS command lines of docs/signing.md, built on openssl.

Each is a small executable named like the real CLI (``aws``, ``gcloud``, ``curl``, ``az``,
``vault``) put first on ``PATH``.  It checks the arguments the real CLI needs to sign a
*digest* (``--message-type DIGEST``, ``prehashed=true``, ``ES256``, the REST body's
``digest.sha256``), signs the digest with ``openssl pkeyutl`` and the key file in
``STANDIN_KEY``, and prints what the real CLI prints: AWS base64 DER, Google JSON with a
base64 DER ``signature``, Azure base64url raw r‖s, Vault ``vault:v1:`` + base64 DER.
A stand-in given arguments the real CLI would not sign with exits 64.
"""

from __future__ import annotations

import sys
from pathlib import Path

_COMMON = r"""
import base64, json, os, subprocess, sys

def die(why):
    sys.stderr.write("stand-in refused: " + why + "\n")
    sys.exit(64)

def sign(digest_b64):
    digest = base64.b64decode(digest_b64)
    if len(digest) != 32:
        die("digest is not 32 bytes")
    return subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-inkey", os.environ["STANDIN_KEY"]],
        input=digest, capture_output=True, check=True, timeout=60,
    ).stdout

def value(args, flag):
    if flag not in args:
        die("missing " + flag)
    return args[args.index(flag) + 1]

args = sys.argv[1:]
"""

STANDINS = {
    "aws": r"""
if args[:2] != ["kms", "sign"]:
    die("not kms sign")
if value(args, "--message-type") != "DIGEST" or value(args, "--signing-algorithm") != "ECDSA_SHA_256":
    die("must sign a DIGEST with ECDSA_SHA_256")
value(args, "--key-id")
der = sign(value(args, "--message"))
if value(args, "--query") != "Signature" or value(args, "--output") != "text":
    die("expected --query Signature --output text")
print(base64.b64encode(der).decode())
""",
    "gcloud": r"""
if args[:2] != ["auth", "print-access-token"]:
    die("only auth print-access-token")
print("ya29.stand-in-access-token")
""",
    "curl": r"""
if value(args, "-X") != "POST" or not args[-1].startswith("https://cloudkms.googleapis.com/v1/projects/"):
    die("not a KMS REST call")
if not args[-1].endswith(":asymmetricSign"):
    die("not asymmetricSign")
headers = [args[i + 1] for i, a in enumerate(args) if a == "-H"]
if "Authorization: Bearer ya29.stand-in-access-token" not in headers:
    die("no bearer token")
body = json.loads(value(args, "--data"))
der = sign(body["digest"]["sha256"])
print(json.dumps({"signature": base64.b64encode(der).decode(), "name": args[-1].split("/v1/")[1]}))
""",
    "az": r"""
if args[:3] != ["keyvault", "key", "sign"] or value(args, "--algorithm") != "ES256":
    die("must be keyvault key sign --algorithm ES256")
der = sign(value(args, "--digest"))
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
r, s = decode_dss_signature(der)
raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
if value(args, "--query") != "result" or value(args, "--output") != "tsv":
    die("expected --query result --output tsv")
print(base64.urlsafe_b64encode(raw).decode().rstrip("="))
""",
    "vault": r"""
if args[0] != "write" or "-field=signature" not in args or not args[2].startswith("transit/sign/"):
    die("must be vault write -field=signature transit/sign/...")
pairs = dict(a.split("=", 1) for a in args[3:])
if pairs.get("prehashed") != "true" or not args[2].endswith("/sha2-256"):
    die("must be prehashed=true with sha2-256")
print("vault:v1:" + base64.b64encode(sign(pairs["input"])).decode())
""",
}


def install(bin_dir: Path) -> Path:
    """Write every stand-in into ``bin_dir`` (put it first on PATH); returns ``bin_dir``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, body in STANDINS.items():
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{_COMMON}{body}", encoding="utf-8")
        path.chmod(0o755)
    return bin_dir
