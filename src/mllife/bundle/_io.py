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
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError, IntegrityError
from .._files import write_atomic

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
#: The most each JSON member may inflate to (actual bytes, whatever its header says).
MEMBER_LIMITS = {
    MANIFEST: 1024**2,
    SIGNATURE: 1024,
    "schema.json": 64 * 1024**2,
    "info.json": 16 * 1024**2,
    "drift_profile.json": 64 * 1024**2,
}
#: The deepest nesting any JSON member may have (ours nest fewer than 10 levels).
MAX_JSON_DEPTH = 64
_CHUNK = 1024**2
#: The depth scan reads JSON in blocks of this many bytes (bounded temporaries).
_SCAN_BLOCK = 4 * 1024**2
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
    return write_atomic(target, sealed)


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
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise InputError(f"path is a {type(path).__name__}", expected="a file path (str or Path)")
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
        raise InputError(f"max_bytes={max_bytes!r}", expected="a positive number of bytes")
    source = Path(path)
    try:
        size = source.stat().st_size
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read bundle {str(source)[:200]!r}: {reason}") from None
    if not source.is_file():
        raise InputError(f"{str(source)[:200]!r} is not a file", expected="a bundle file")
    if size > max_bytes:
        raise IntegrityError(f"{source.name}: {size} bytes, larger than the {max_bytes} allowed")
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read bundle {str(source)[:200]!r}: {exc.strerror}") from None
    members = _read_members(raw, max_bytes, source.name)
    if MANIFEST not in members:
        raise IntegrityError(f"{source.name}: no manifest; not an mllife bundle")
    manifest_bytes = members.pop(MANIFEST)
    signature = members.pop(SIGNATURE, None)
    # The signature is checked on the raw bytes before the manifest is parsed: with a
    # key, nothing an outsider wrote is read.
    if key_bytes is not None:
        if signature is None:
            raise IntegrityError(f"{source.name}: a key was given but the bundle is not signed")
        if not hmac.compare_digest(signature, _sign(manifest_bytes, key_bytes)):
            raise IntegrityError(f"{source.name}: the HMAC signature does not match "
                                 "(wrong key, or the bundle was tampered with)")
    elif signature is not None:
        raise IntegrityError(f"{source.name}: the bundle is signed; load it with its key")
    manifest = check_manifest(load_json(manifest_bytes, f"{source.name}: manifest.json"),
                              source.name)
    listed = manifest["members"]
    if set(listed) != set(members):
        raise IntegrityError(
            f"{source.name}: members {sorted(members)} do not match the manifest "
            f"{sorted(map(str, listed))[:10]}")
    for name, data in members.items():
        entry = listed[name]
        digest = hashlib.sha256(data).hexdigest()
        if not hmac.compare_digest(digest, entry["sha256"]) or entry["size"] != len(data):
            raise IntegrityError(f"{source.name}: member {name!r} does not match its SHA-256 "
                                 "in the manifest (corrupted or tampered with)")
    if manifest["signed"] and key_bytes is None:
        raise IntegrityError(f"{source.name}: the bundle is signed; load it with its key")
    _check_seal(raw, source.name)
    return members, manifest


def check_manifest(manifest: Any, name: str) -> dict[str, Any]:
    """The manifest, checked for shape and version: an IntegrityError names what is wrong."""
    if not isinstance(manifest, dict):
        raise IntegrityError(f"{name}: the manifest is a JSON {type(manifest).__name__}, "
                             "not an object")
    if manifest.get("format") != FORMAT:
        raise IntegrityError(f"{name}: not an mllife bundle (format "
                             f"{str(manifest.get('format'))[:40]!r})")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise IntegrityError(f"{name}: malformed format_version {str(version)[:40]!r}; this "
                             f"mllife reads bundle format version {FORMAT_VERSION}")
    if version > FORMAT_VERSION:
        raise IntegrityError(f"{name}: written in bundle format version {version}, newer than "
                             f"version {FORMAT_VERSION} that this mllife reads; upgrade mllife")
    members = manifest.get("members")
    if not isinstance(members, dict) or len(members) > len(ALLOWED_MEMBERS):
        raise IntegrityError(f"{name}: the manifest's members are unreadable")
    for member, entry in members.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and isinstance(entry.get("size"), int) and not isinstance(entry["size"], bool)):
            raise IntegrityError(f"{name}: the manifest's entry for {str(member)[:80]!r} is "
                                 "malformed (expected its sha256 and size)")
    versions = manifest.get("versions", {})
    if not isinstance(versions, dict) or len(versions) > 100 or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) + len(v) < 200
            for k, v in versions.items()):
        raise IntegrityError(f"{name}: the manifest's library versions are malformed")
    signed = manifest.get("signed", False)
    if not isinstance(signed, bool):
        raise IntegrityError(f"{name}: the manifest's 'signed' flag is malformed")
    return {**manifest, "versions": versions, "signed": signed}


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


def inflate_members(zf: zipfile.ZipFile, max_bytes: int, what: str, *,
                    keep: Any = None, limits: Mapping[str, int] | None = None,
                    heads: dict[str, bytes] | None = None,
                    sizes: dict[str, int] | None = None,
                    only: Any = None) -> dict[str, bytes]:
    """Inflate every member as a stream, counting the bytes that actually come out.

    A member stops at its limit (``limits[name]``, else ``max_bytes``), at the
    total limit ``max_bytes`` for all members together, or when it inflates
    more than ``MAX_RATIO`` times its compressed size past its first MiB:
    whatever the zip headers declare. Members named in ``keep`` (all when
    ``None``) are returned; the others are only measured. ``heads`` and
    ``sizes``, when given, receive each member's first chunk and inflated size.
    """
    infos = check_zip_sizes(zf, max_bytes, what)
    limits = limits or {}
    total = 0
    out: dict[str, bytes] = {}
    for info in infos:
        if only is not None and info.filename not in only:
            continue
        limit = min(limits.get(info.filename, max_bytes), max_bytes)
        wanted = keep is None or info.filename in keep
        parts: list[bytes] = []
        size = 0
        try:
            with zf.open(info) as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    total += len(chunk)
                    if size > limit or total > max_bytes or (
                            size > _CHUNK and size > MAX_RATIO * max(info.compress_size, 1)):
                        raise IntegrityError(
                            f"{what}: member {info.filename[:80]!r} inflates past "
                            f"{min(limit, max_bytes)} bytes or {MAX_RATIO} times its "
                            "compressed size (refused as a possible zip bomb)")
                    if wanted:
                        parts.append(chunk)
                    if heads is not None and size == len(chunk):
                        heads[info.filename] = chunk[:65_536]  # enough for any header
        except IntegrityError:
            raise
        except Exception as exc:  # zlib errors, CRC mismatch, truncated streams
            raise IntegrityError(
                f"{what}: member {info.filename[:80]!r} is corrupted ({type(exc).__name__}: "
                f"{str(exc)[:120]})") from None
        if wanted:
            out[info.filename] = b"".join(parts)
        if sizes is not None:
            sizes[info.filename] = size
    return out


def check_json_depth(data: bytes, max_depth: int, what: str) -> None:
    """Refuse JSON nested deeper than ``max_depth`` before any parser recurses into it.

    One linear pass, block by block (temporaries stay a few times ``_SCAN_BLOCK``
    whatever the member's size): a quote is a string boundary unless an odd run of
    backslashes precedes it, and brackets count only outside strings. An
    unterminated string is refused too.
    """
    depth = 0
    in_string = False
    backslashes = 0  # length of the run of backslashes that ended the previous block
    view = memoryview(data)
    for start in range(0, len(data), _SCAN_BLOCK):
        codes = np.frombuffer(view[start:start + _SCAN_BLOCK], dtype=np.uint8)
        n = codes.size
        is_bs = codes == 92
        quote = codes == 34
        if backslashes or is_bs.any():  # else no quote is escaped: skip the run lengths
            position = np.arange(n, dtype=np.int64)
            # For each byte, the last byte at or before it that is not a backslash.
            last_other = np.maximum.accumulate(np.where(is_bs, -1, position))
            run = position - last_other  # at a backslash: the run's length so far, else 0
            before = np.empty(n, dtype=np.int64)
            before[0] = backslashes
            before[1:] = run[:-1]
            before[1:][last_other[:-1] == -1] += backslashes  # runs from the last block
            quote &= before % 2 == 0
            carry = int(run[-1]) + (backslashes if last_other[-1] == -1 else 0)
        else:
            carry = 0
        flips = np.cumsum(quote, dtype=np.int64)
        inside = ((flips - quote) % 2 == 1) ^ in_string  # inside a string, before this byte
        steps = np.zeros(n, dtype=np.int32)
        steps[(codes == 91) | (codes == 123)] = 1
        steps[(codes == 93) | (codes == 125)] = -1
        steps[inside | quote] = 0
        levels = depth + np.cumsum(steps, dtype=np.int64)
        if n and int(levels.max()) > max_depth:
            raise IntegrityError(f"{what}: JSON nested deeper than {max_depth} levels")
        depth = int(levels[-1]) if n else depth
        in_string = bool((int(flips[-1]) % 2 == 1) ^ in_string) if n else in_string
        backslashes = carry
    if in_string:
        raise IntegrityError(f"{what}: a JSON string is not terminated")


def load_json(data: bytes, what: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse one JSON member after bounding its nesting; any failure is an IntegrityError."""
    check_json_depth(data, max_depth, what)
    try:
        return json.loads(data)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise IntegrityError(f"{what} is not valid JSON") from None
    except MemoryError:
        raise IntegrityError(f"{what} is too large to read in memory") from None


def _read_members(raw: bytes, max_bytes: int, what: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = check_zip_sizes(zf, max_bytes, what)
            unknown = [i.filename[:80] for i in infos if i.filename not in ALLOWED_MEMBERS]
            if unknown:
                raise IntegrityError(f"{what}: unexpected members {unknown}")
            return inflate_members(zf, max_bytes, what, limits=MEMBER_LIMITS)
    except IntegrityError:
        raise
    except Exception as exc:  # BadZipFile, struct/zlib errors, bad headers...
        raise IntegrityError(f"{what}: not a readable bundle, truncated or corrupted "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from None
