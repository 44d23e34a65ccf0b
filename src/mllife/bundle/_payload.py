"""Bounds on a skops payload (``model.skops``), checked before skops reads any of it.

skops rebuilds a model from a zip of its own: a ``schema.json`` tree of nodes and
one ``.npy`` (or, for sparse matrices, ``.npz``) member per array. Each node that
names a member makes skops inflate that member again, and each array is
allocated from the shape its ``.npy`` header declares. So, before skops runs:

- every member is inflated as a capped stream (whatever its header says), and
  each ``.npz`` member's own members too;
- every ``.npy`` header is parsed: no object arrays, no zero-size elements, and
  the data that follows holds exactly ``prod(shape) * itemsize`` bytes, so an
  array costs what its bytes are;
- the schema is at most ``SKOPS_MAX_DEPTH`` deep (the parser itself stops at the
  interpreter's recursion limit; the walk that follows is iterative) and
  holds at most ``SKOPS_MAX_NODES`` nodes; each member is named by one object only
  (skops reads a member once per node it builds: a member named by a thousand
  objects would be inflated a thousand times);
- the schema expands, through repeated ``__id__`` references that skops walks
  again each time, to at most ``SKOPS_MAX_NODES`` nodes;
- a random generator's state names one of numpy's bit generators and the
  default seed pool size (its constructor costs the square of the pool size).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

import numpy as np

from .._errors import IntegrityError
from ._io import check_zip_sizes, inflate_members

#: The deepest a skops schema may nest (its JSON levels).
SKOPS_MAX_DEPTH = 400
#: The most members a skops payload may hold (one per array).
SKOPS_MAX_MEMBERS = 200_000
#: The most nodes its schema may hold.
SKOPS_MAX_NODES = 2_000_000
#: The largest ``schema.json``.
SKOPS_MAX_SCHEMA = 256 * 1024**2
_BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
_DEFAULT_POOL_SIZE = 4


def _fail(problem: str) -> IntegrityError:
    return IntegrityError(f"model.skops: {problem}")


def _check_npy(name: str, head: bytes, size: int) -> None:
    """The ``.npy`` header of ``name`` is sane and its data has exactly the declared size."""
    stream = io.BytesIO(head)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"version {version}")
    except Exception as exc:
        raise _fail(f"member {name[:60]!r} is not a readable .npy array "
                    f"({type(exc).__name__}: {str(exc)[:80]})") from None
    if dtype.hasobject:
        raise _fail(f"member {name[:60]!r} holds Python objects, not numbers")
    if dtype.itemsize <= 0:
        raise _fail(f"member {name[:60]!r} has elements of {dtype.itemsize} bytes")
    count = math.prod(int(d) for d in shape)
    if count * dtype.itemsize != size - stream.tell():
        raise _fail(f"member {name[:60]!r} declares {count} elements of {dtype.itemsize} "
                    f"bytes but holds {size - stream.tell()} bytes of data")


def _check_npz(name: str, data: bytes, max_bytes: int) -> None:
    """A sparse matrix member: a zip of a few ``.npy`` arrays, each checked as above."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if len(zf.infolist()) > 10:
                raise _fail(f"member {name[:60]!r} holds {len(zf.infolist())} arrays")
            heads: dict[str, bytes] = {}
            sizes: dict[str, int] = {}
            check_zip_sizes(zf, max_bytes, f"model.skops: {name[:60]}")
            inflate_members(zf, max_bytes, f"model.skops: {name[:60]}", keep=(),
                            heads=heads, sizes=sizes)
    except IntegrityError:
        raise
    except Exception as exc:
        raise _fail(f"member {name[:60]!r} is not a readable .npz archive "
                    f"({type(exc).__name__})") from None
    for inner, size in sizes.items():
        if not inner.endswith(".npy"):
            raise _fail(f"member {name[:60]!r} holds {inner[:60]!r}, not a .npy array")
        _check_npy(f"{name}/{inner}", heads.get(inner, b""), size)


_NOT_JSON = object()


def _json_value(node: Any) -> Any:
    """The value of a skops ``JsonNode`` (a short JSON literal), else ``_NOT_JSON``."""
    if isinstance(node, dict) and node.get("__loader__") == "JsonNode" \
            and isinstance(node.get("content"), str) and len(node["content"]) < 100:
        try:
            return json.loads(node["content"])
        except ValueError:
            return _NOT_JSON
    return _NOT_JSON


def _check_generator(node: dict[str, Any]) -> None:
    """A ``numpy.random.Generator``: a known bit generator, default pool size."""
    content: Any = node.get("content")
    try:
        bit = content["bit_generator"]["content"]["bit_generator"]
        seed = content["seed_seq"]["content"]
    except (KeyError, TypeError):
        raise _fail("a random generator's state is malformed") from None
    if _json_value(bit) not in _BIT_GENERATORS:
        raise _fail("a random generator names no numpy bit generator")
    if not isinstance(seed, dict) or not set(seed) <= {"entropy", "spawn_key", "pool_size",
                                                        "n_children_spawned"}:
        raise _fail("a random generator's seed sequence is malformed")
    if "pool_size" in seed and _json_value(seed["pool_size"]) != _DEFAULT_POOL_SIZE:
        raise _fail(f"a random generator's seed pool is not numpy's default "
                    f"({_DEFAULT_POOL_SIZE}); its constructor would run for hours")
    spawned = _json_value(seed.get("n_children_spawned", {"__loader__": "JsonNode",
                                                          "content": "0"}))
    if not isinstance(spawned, int) or isinstance(spawned, bool) or not 0 <= spawned < 2**32:
        raise _fail("a random generator's spawned-children count is malformed")


def _walk(schema: Any) -> set[tuple[str, str]]:
    """Count the nodes, the members each names, check random generators, and return
    every ``(module.class, loader)`` pair the schema names (for the trust list)."""
    pairs: set[tuple[str, str]] = set()
    named: dict[str, Any] = {}
    nodes = 0
    stack = [(schema, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > SKOPS_MAX_DEPTH:
            raise _fail(f"schema.json nests deeper than {SKOPS_MAX_DEPTH} levels")
        if isinstance(node, dict):
            if "__module__" in node or "__class__" in node or "__loader__" in node:
                module, cls, loader = (node.get("__module__"), node.get("__class__"),
                                       node.get("__loader__"))
                if not (isinstance(module, str) and isinstance(cls, str)
                        and isinstance(loader, str)):
                    raise _fail("a node without a module, class and loader name: "
                                "not a skops file")
                pairs.add((f"{module}.{cls}", loader))
                nodes += 1
                if nodes > SKOPS_MAX_NODES:
                    raise _fail(f"the schema holds more than {SKOPS_MAX_NODES:,} nodes")
                member = node.get("file")
                if member is not None:
                    # skops reads a member once per node, but returns an already built node
                    # for a repeated ``__id__``: every node naming a member must share one.
                    ident = node.get("__id__")
                    if not isinstance(member, str) or ident is None or \
                            named.setdefault(member, ident) != ident:
                        raise _fail(f"member {str(member)[:60]!r} is named by more than one "
                                    "object (each would inflate it again)")
                if node["__loader__"] == "RandomGeneratorNode":
                    _check_generator(node)
            stack.extend((child, depth + 1) for child in node.values()
                         if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return pairs


def _expanded_size(schema: Any) -> int:
    """How many nodes skops visits: its audit walks a node named again by ``__id__``
    (or a ``CachedNode``) once per name, so three levels of a list named 1,000 times
    each are 10**9 visits in a file of 3,000 nodes. Computed once per ``__id__``."""
    memo: dict[Any, int] = {}

    def size(node: Any) -> int:
        if isinstance(node, dict):
            ident = node.get("__id__")
            key = ident if isinstance(ident, int | str) else None
            if key is not None and key in memo:
                return memo[key]
            total = 1 + sum(size(child) for child in node.values())
            if total > SKOPS_MAX_NODES:
                raise _fail(f"the schema expands to more than {SKOPS_MAX_NODES:,} nodes "
                            "through repeated references")
            if key is not None:
                memo[key] = total
            return total
        if isinstance(node, list):
            total = 1 + sum(size(child) for child in node)
            if total > SKOPS_MAX_NODES:
                raise _fail(f"the schema expands to more than {SKOPS_MAX_NODES:,} nodes "
                            "through repeated references")
            return total
        return 0

    return size(schema)  # the depth is bounded by _walk first


def read_payload(data: bytes, max_bytes: int) -> set[tuple[str, str]]:
    """Check the skops payload's members and schema; return every ``(module.class,
    loader)`` pair its schema names.

    Raises
    ------
    IntegrityError
        Naming the member or the bound that was crossed.
    """
    heads: dict[str, bytes] = {}
    sizes: dict[str, int] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if len(zf.infolist()) > SKOPS_MAX_MEMBERS:
                raise _fail(f"{len(zf.infolist())} members, more than the "
                            f"{SKOPS_MAX_MEMBERS} allowed")
            infos = check_zip_sizes(zf, max_bytes, "model.skops")
            whole = {i.filename for i in infos
                     if i.filename == "schema.json" or i.filename.endswith(".npz")}
            kept = inflate_members(zf, max_bytes, "model.skops", only=whole,
                                   limits={"schema.json": SKOPS_MAX_SCHEMA})
            # An array member is read by skops through zipfile, which never returns more
            # than the size the directory declares (and fails on a shorter or altered
            # stream): that size, bounded above, and the header are what count.
            for info in infos:
                if info.filename not in whole:
                    with zf.open(info) as stream:
                        heads[info.filename] = stream.read(65_536)
                    sizes[info.filename] = info.file_size
    except IntegrityError:
        raise
    except Exception as exc:
        raise _fail(f"not a readable skops file ({type(exc).__name__}: "
                    f"{str(exc)[:120]})") from None
    sizes.update({name: len(value) for name, value in kept.items()})
    if "schema.json" not in kept:
        raise _fail("no schema.json: not a skops file")
    for name, size in sizes.items():
        if name.endswith(".npy"):
            _check_npy(name, heads.get(name, b""), size)
        elif name.endswith(".npz"):
            _check_npz(name, kept[name], max_bytes)
        elif name != "schema.json":
            raise _fail(f"unexpected member {name[:60]!r}")
    try:  # the C parser stops at the interpreter's recursion limit; _walk bounds the rest
        schema = json.loads(kept["schema.json"])
    except RecursionError:
        raise _fail(f"schema.json nests deeper than {SKOPS_MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise _fail("schema.json is not valid JSON") from None
    except MemoryError:
        raise _fail("schema.json is too large to read in memory") from None
    pairs = _walk(schema)
    _expanded_size(schema)
    return pairs
