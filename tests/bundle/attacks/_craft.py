"""Build crafted bundle files, as an attacker who can write the file would.

Without a key, a bundle's manifest and seal only detect accidental damage: an
attacker recomputes them. Every file built here is therefore *validly sealed*
(:func:`forge`), so each test reaches the defence it is about (trust list,
structural validation, resource limits), not the checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio

from mllife.bundle import InputSchema, _io

#: The command every code-execution payload would run: it creates this file.
MARKER_NAME = "PWNED"


def frame(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A small numeric table with a binary target."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    y = (X["x"] + 0.3 * rng.normal(size=n) > 0).astype(int).to_numpy()
    return X, y


def members_of(model: Any, X: pd.DataFrame, version: str = "1") -> dict[str, bytes]:
    """The content members of an honest bundle of ``model`` (before the manifest)."""
    return {
        "model.skops": sio.dumps(model),
        "schema.json": json.dumps(InputSchema.infer(X).to_dict()).encode(),
        "info.json": json.dumps({"version": version, "metadata": {}, "metrics": {}}).encode(),
    }


def forge(path: Path, members: dict[str, bytes], *, manifest: Any = None) -> Path:
    """Write ``members`` as a bundle with a recomputed manifest and seal.

    ``manifest`` (a JSON value) replaces the honest manifest when given.
    """
    if manifest is None:
        return _io.write_bundle(path, members)
    entries = {**members, _io.MANIFEST: json.dumps(manifest).encode()}
    return seal(path, entries)


def seal(path: Path, entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED,
         patch: Any = None) -> Path:
    """Zip ``entries`` as they are (manifest included) and append a valid seal.

    ``patch(raw) -> raw`` may edit the zip bytes before sealing (lying headers).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        zf.comment = b"\0" * _io._SEAL_LENGTH
    raw = buffer.getvalue()
    if patch is not None:
        raw = patch(raw)
    body = raw[:-_io._SEAL_LENGTH]
    path.write_bytes(body + _io._SEAL_PREFIX + hashlib.sha256(body).hexdigest().encode())
    return path


def honest_manifest(members: dict[str, bytes]) -> dict[str, Any]:
    return {
        "format": _io.FORMAT, "format_version": _io.FORMAT_VERSION, "signed": False,
        "versions": _io.library_versions(),
        "members": {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                    for n, d in members.items()},
    }


# ---------------------------------------------------------------- skops payloads
def skops_files(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def skops_blob(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def edit_schema(blob: bytes, edit: Any) -> bytes:
    """A skops payload whose schema.json went through ``edit(schema) -> schema``."""
    files = skops_files(blob)
    files["schema.json"] = json.dumps(edit(json.loads(files["schema.json"]))).encode()
    return skops_blob(files)


def replace_text(blob: bytes, old: str, new: str) -> bytes:
    """A skops payload whose string values ``old`` all became ``new``."""
    found = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("__loader__") == "JsonNode" and node.get("content") == json.dumps(old):
                found.append(node)
                return {**node, "content": json.dumps(new)}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = edit_schema(blob, walk)
    assert found, f"{old!r} is not in the payload"
    return out


def rename_type(blob: bytes, old_module: str, old_class: str, module: str, cls: str) -> bytes:
    """Point every node of type ``old_module.old_class`` at ``module.cls`` instead."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("__module__") == old_module and node.get("__class__") == old_class:
                node = {**node, "__module__": module, "__class__": cls}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return edit_schema(blob, walk)
