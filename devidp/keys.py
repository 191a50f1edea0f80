"""What the development tools keep between runs: the development IdP's signing key and
certificate, and the SCIM key the simulated identity provider was given for each organisation.

Both live in files under ``.dev-idp/`` beside manage.py (git-ignored; ``DEV_IDP_DIR`` in the
settings moves it, which the tests do), readable by their owner only. Why files, and not the
database:
- ``manage.py demo`` pins the certificate in the demo connection, and the runserver process
  signs with the key; runserver restarts on every code change. Both processes read the same
  file, and it outlives them, so what the connection trusts stays what the IdP signs with.
- A private key that exists for local runs only stays out of the database: no table (and no
  migration) in a production schema for it, and nothing in the dumps and backups that get
  copied from one place to another. With DEBUG off nothing reads these files.
- Each checkout makes its own key the first time it is needed, and git never carries it, so
  there is no well-known key that some connection could be made to trust.
"""

import base64
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

SIGNING_KEY_FILE = "signing-key.pem"
SCIM_KEYS_FILE = "scim-keys.json"
COMMON_NAME = "auzlearn development identity provider"
# Long enough that nobody trying the product meets an expiry; nothing outside DEBUG trusts it.
VALID_FOR = timedelta(days=10 * 365)

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\n?", re.DOTALL)


def state_dir() -> Path:
    """Where the development tools keep their files."""
    configured = getattr(settings, "DEV_IDP_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / ".dev-idp"


@dataclass(frozen=True)
class SigningKey:
    private_key_pem: str
    certificate_pem: str

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode())

    @property
    def certificate_der_b64(self) -> str:
        """The certificate as metadata and KeyInfo carry it: base64 of the DER, one line."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return base64.b64encode(der).decode("ascii")

    @property
    def fingerprint_sha256(self) -> str:
        """ "AB:CD:…", as sso.metadata records the certificates a connection pins."""
        digest = self.certificate.fingerprint(hashes.SHA256()).hex().upper()
        return ":".join(re.findall("..", digest))


def signing_key() -> SigningKey:
    """The development IdP's key and certificate, made the first time they are needed."""
    path = state_dir() / SIGNING_KEY_FILE
    if not path.exists():
        key, certificate = _new_key_and_certificate()
        _create_once(path, key + certificate)
    return _read_signing_key(path)


def _read_signing_key(path: Path) -> SigningKey:
    blocks = {match.group(1): match.group(0) for match in _PEM_BLOCK.finditer(path.read_bytes())}
    return SigningKey(
        private_key_pem=blocks[b"PRIVATE KEY"].decode("ascii"),
        certificate_pem=blocks[b"CERTIFICATE"].decode("ascii"),
    )


def _new_key_and_certificate() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    not_before = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)  # self-signed, as identity providers' signing certificates are
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + VALID_FOR)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private_pem, certificate.public_bytes(serialization.Encoding.PEM)


# --- the simulated identity provider's SCIM keys ------------------------------------------------


def remembered_scim_key(organisation_public_id: str) -> str | None:
    """The Secret Key simulate_idp was given for this organisation last time, if any. Okta and
    Entra keep the key they were given; so does the simulation, so that a second run uses the
    same key rather than making a new one each time."""
    path = state_dir() / SCIM_KEYS_FILE
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    value = stored.get(organisation_public_id) if isinstance(stored, dict) else None
    return value if isinstance(value, str) else None


def remember_scim_key(organisation_public_id: str, secret: str) -> None:
    path = state_dir() / SCIM_KEYS_FILE
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[organisation_public_id] = secret
    _replace(path, json.dumps(stored, indent=2, sort_keys=True).encode() + b"\n")


# --- files --------------------------------------------------------------------------------------


def _create_once(path: Path, content: bytes) -> None:
    """Write ``path`` unless it exists, atomically: ``manage.py demo`` and runserver may make the
    key at the same moment, and both must end up with the same one. The content goes to a
    private temporary file first, then is linked into place; linking fails if the file exists,
    and the first one to link wins."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    _write_private(temporary, content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _replace(path: Path, content: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    _write_private(temporary, content)
    os.replace(temporary, path)


def _write_private(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
