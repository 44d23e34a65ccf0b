"""The bundle file: a zip with a manifest of SHA-256 hashes, an optional HMAC and a seal.

Layout (every name fixed, nothing extracted to disk)::

    model.skops          the fitted model, written by skops.io.dumps
    schema.json          InputSchema.to_dict()
    info.json            version, metadata, metrics
    drift_profile.json   DriftProfile.to_dict() (optional)
    manifest.json        format, SHA-256 and size of every member, library versions
    manifest.hmac        HMAC-SHA256 of manifest.json (only when saved with a key)

The zip comment is a seal: ``mllife-sha256:`` and the SHA-256 of every byte
of the file before it, so a change to *any* byte (zip headers included) is
caught, not only changes inside the members.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import platform
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import InputError, IntegrityError

FORMAT = "mllife-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.hmac"
CONTENT_MEMBERS = ("model.skops", "schema.json", "info.json", "drift_profile.json")
ALLOWED_MEMBERS = frozenset((*CONTENT_MEMBERS, MANIFEST, SIGNATURE))
_SEAL_PREFIX = b"mllife-sha256:"
_SEAL_LENGTH = len(_SEAL_PREFIX) + 64
#: Refuse files and members larger than this (zip bombs, runaway files).
MAX_BYTES = 2 * 1024**3
#: Refuse members that inflate more than this many times (zip bombs).
MAX_RATIO = 200
_DATE = (1980, 1, 1, 0, 0, 0)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a bundle depends on, as recorded in its manifest."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("mllife", "scikit-learn", "numpy", "pandas", "scipy", "skops"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _key_bytes(key: bytes | str | None) -> bytes | None:
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes | bytearray) or len(key) == 0:
        raise InputError("the signing key must be non-empty bytes or str", expected="a secret")
    return bytes(key)


def _sign(manifest: bytes, key: bytes) -> bytes:
    return hmac.new(key, manifest, hashlib.sha256).hexdigest().encode("ascii")


def write_bundle(path: str | os.PathLike[str], members: Mapping[str, bytes], *,
                 key: bytes | str | None = None) -> Path:
    """Write ``members`` as a sealed bundle file, atomically (temporary file + rename)."""
    key_bytes = _key_bytes(key)
    target = Path(path)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "members": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                    for name, data in members.items()},
        "versions": library_versions(),
        "signed": key_bytes is not None,
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    entries = [*members.items(), (MANIFEST, manifest_bytes)]
    if key_bytes is not None:
        entries.append((SIGNATURE, _sign(manifest_bytes, key_bytes)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
        zf.comment = b"\0" * _SEAL_LENGTH
    raw = buffer.getvalue()
    body = raw[:-_SEAL_LENGTH]
    sealed = body + _SEAL_PREFIX + hashlib.sha256(body).hexdigest().encode("ascii")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(sealed)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_bundle(path: str | os.PathLike[str], *, key: bytes | str | None = None,
                max_bytes: int = MAX_BYTES) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Read and verify a bundle file: ``(members, manifest)``.

    Raises
    ------
    IntegrityError
        Naming what is wrong: not a bundle, truncated, a member whose hash
        does not match, an unexpected or oversized member, a missing or wrong
        signature, or any changed byte of the container.
    """
    key_bytes = _key_bytes(key)
    source = Path(path)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read bundle {str(source)!r}: {exc.strerror}") from None
    if not source.is_file():
        raise InputError(f"{str(source)!r} is not a file", expected="a bundle file")
    if size > max_bytes:
        raise IntegrityError(f"{source.name}: {size} bytes, larger than the {max_bytes} allowed")
    raw = source.read_bytes()
    members = _read_members(raw, max_bytes, source.name)
    if MANIFEST not in members:
        raise IntegrityError(f"{source.name}: no manifest; not an mllife bundle")
    manifest_bytes = members.pop(MANIFEST)
    signature = members.pop(SIGNATURE, None)
    try:
        manifest = json.loads(manifest_bytes)
        listed = dict(manifest["members"])
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(f"{source.name}: the manifest is unreadable") from None
    if manifest.get("format") != FORMAT:
        raise IntegrityError(f"{source.name}: not an mllife bundle (format "
                             f"{str(manifest.get('format'))[:40]!r})")
    if set(listed) != set(members):
        raise IntegrityError(
            f"{source.name}: members {sorted(members)} do not match the manifest "
            f"{sorted(map(str, listed))}")
    for name, data in members.items():
        entry = listed[name]
        digest = hashlib.sha256(data).hexdigest()
        if not isinstance(entry, dict) or not hmac.compare_digest(
                digest, str(entry.get("sha256", ""))):
            raise IntegrityError(f"{source.name}: member {name!r} does not match its SHA-256 "
                                 "in the manifest (corrupted or tampered with)")
    signed = signature is not None or bool(manifest.get("signed"))
    if signed and key_bytes is None:
        raise IntegrityError(f"{source.name}: the bundle is signed; load it with its key")
    if key_bytes is not None:
        if signature is None:
            raise IntegrityError(f"{source.name}: a key was given but the bundle is not signed")
        if not hmac.compare_digest(signature, _sign(manifest_bytes, key_bytes)):
            raise IntegrityError(f"{source.name}: the HMAC signature does not match "
                                 "(wrong key, or the bundle was tampered with)")
    _check_seal(raw, source.name)
    return members, manifest


def _check_seal(raw: bytes, name: str) -> None:
    body, seal = raw[:-_SEAL_LENGTH], raw[-_SEAL_LENGTH:]
    expected = _SEAL_PREFIX + hashlib.sha256(body).hexdigest().encode("ascii")
    if len(raw) <= _SEAL_LENGTH or not hmac.compare_digest(seal, expected):
        raise IntegrityError(f"{name}: the file's checksum does not match "
                             "(a byte of the zip container was changed, or the file is truncated)")


def check_zip_sizes(zf: zipfile.ZipFile, max_bytes: int, what: str) -> list[zipfile.ZipInfo]:
    """Refuse zip bombs, odd names and duplicates before inflating anything."""
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise IntegrityError(f"{what}: duplicated member names")
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") \
                or ":" in name:
            raise IntegrityError(f"{what}: member name {name[:80]!r} is a path outside the file")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > max_bytes or total > max_bytes or (
                info.file_size > 1_000_000 and ratio > MAX_RATIO):
            raise IntegrityError(f"{what}: member {name[:80]!r} inflates to {info.file_size} "
                                 "bytes (refused as a possible zip bomb)")
    return infos


def _read_members(raw: bytes, max_bytes: int, what: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = check_zip_sizes(zf, max_bytes, what)
            unknown = [i.filename[:80] for i in infos if i.filename not in ALLOWED_MEMBERS]
            if unknown:
                raise IntegrityError(f"{what}: unexpected members {unknown}")
            members = {}
            for info in infos:
                try:
                    members[info.filename] = zf.read(info)
                except Exception as exc:
                    raise IntegrityError(
                        f"{what}: member {info.filename!r} is corrupted ({type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    except IntegrityError:
        raise
    except Exception as exc:  # BadZipFile, struct/zlib errors, bad headers...
        raise IntegrityError(f"{what}: not a readable bundle, truncated or corrupted "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from None
    return members
