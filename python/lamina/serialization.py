"""lamina.save / lamina.load: state dicts and nested containers of tensors and numbers in the
safetensors format (data only, never pickle), readable by the ``safetensors`` package.

File layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header size
n, n bytes of JSON header (space-padded to a multiple of 8), then the tensor bytes back to back.
The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
into the data section) and holds a "__metadata__" dict of strings. A flat dict of tensors is
stored under its own keys; other objects store their tensors under dotted paths ("state.0.
exp_avg") and their structure, with the non-tensor values, as JSON in
__metadata__["lamina.structure"]. Writes are atomic: temporary file, fsync, rename, fsync of the
directory.
"""
import json
import math
import os
import uuid

import numpy as np

from lamina import _C

__all__ = ["save", "load"]

_STRUCTURE_KEY = "lamina.structure"
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors package's own limit
# safetensors dtype -> (NumPy dtype stored in the file, lamina dtype it loads as)
_DTYPES = {
    "F32": (np.dtype("<f4"), _C.dtype.float32),
    "F64": (np.dtype("<f8"), _C.dtype.float64),
    "I64": (np.dtype("<i8"), _C.dtype.int64),
    "BOOL": (np.dtype("?"), _C.dtype.bool),
    # widened on load (lamina has no such dtypes); every value is kept exactly
    "F16": (np.dtype("<f2"), _C.dtype.float32),
    "BF16": (np.dtype("<u2"), _C.dtype.float32),
    "I32": (np.dtype("<i4"), _C.dtype.int64),
    "I16": (np.dtype("<i2"), _C.dtype.int64),
    "I8": (np.dtype("i1"), _C.dtype.int64),
    "U8": (np.dtype("u1"), _C.dtype.int64),
}
_NAMES = {_C.dtype.float32: "F32", _C.dtype.float64: "F64", _C.dtype.int64: "I64", _C.dtype.bool: "BOOL"}


# ---------------------------------------------------------------- save
def _encode(obj, path, tensors):
    """The JSON form of obj; its tensors are added to the dict `tensors` under their dotted
    path and referred to by that name. Containers and special values are one-key objects: {"tensor": name},
    {"dict": [[key, value], ...]}, {"list": [...]}, {"tuple": [...]}, {"float": "nan"|"inf"|"-inf"};
    None, bools, ints, finite floats and strings are themselves."""
    if isinstance(obj, _C.Tensor):
        name, n = path or "tensor", 1
        while name in tensors or name == "__metadata__":  # keys with dots may repeat a path
            name, n = f"{path}.{n}", n + 1
        tensors[name] = obj
        return {"tensor": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"[save] dict keys must be str or int, got {type(key).__name__} at '{path}'")
            items.append([key, _encode(value, f"{path}.{key}" if path else str(key), tensors)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        values = [_encode(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": values}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"float": repr(obj)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"[save] can't save a {type(obj).__name__} at '{path or '<root>'}'; lamina.save takes tensors, "
                    "numbers, strings, None and dicts, lists and tuples of them")


def _tensor_bytes(t):
    """The tensor's elements, C-ordered and little-endian, as bytes."""
    arr = np.ascontiguousarray(t.detach().cpu().numpy())
    return arr.astype(_DTYPES[_NAMES[t.dtype]][0], copy=False).tobytes()


def _header(obj):
    """(header bytes, tensors in data order) for obj."""
    tensors = {}
    structure = _encode(obj, "", tensors)
    entries, offset = {}, 0
    for name, t in tensors.items():
        nbytes = t.numel() * t.element_size()
        entries[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    # "pt": the tensors follow PyTorch's layouts and names (what tools such as transformers check)
    entries["__metadata__"] = {"format": "pt", _STRUCTURE_KEY: json.dumps(structure, allow_nan=False)}
    header = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)
    return header, list(tensors.values())


def _fsync_dir(directory):
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(obj, f):
    """Saves obj (a tensor, or dicts/lists/tuples of tensors, numbers, strings and None, such as
    a model's or an optimizer's state_dict) to the path f in the safetensors format.

    The file is written to a temporary file in the same directory, flushed to disk and renamed
    over f, so an interrupted save leaves any previous file at f intact.
    """
    path = os.fspath(f)
    header, tensors = _header(obj)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(len(header).to_bytes(8, "little"))
            out.write(header)
            for t in tensors:
                out.write(_tensor_bytes(t))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


# ---------------------------------------------------------------- load
def _bad(path, what):
    return ValueError(f"[load] {path}: {what}")


def _read_header(path, fh, size):
    if size < 8:
        raise _bad(path, f"not a safetensors file: {size} bytes, too short for the 8-byte header size")
    prefix = fh.read(8)
    n = int.from_bytes(prefix, "little")
    if n > _MAX_HEADER or 8 + n > size:
        # zip magic (torch.save) or a pickle's PROTO opcode, version and first opcode (never 0)
        if prefix[:4] == b"PK\x03\x04" or (prefix[0] == 0x80 and 2 <= prefix[1] <= 5 and prefix[2] != 0):
            raise _bad(path, "not a safetensors file: it looks like a torch.save zip archive or a pickle, which "
                             "lamina never loads (save the tensors with safetensors instead)")
        raise _bad(path, f"not a safetensors file, or truncated: the header size field says {n} bytes but the file "
                         f"has {size - 8} bytes after it")
    try:
        header = json.loads(fh.read(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _bad(path, f"not a safetensors file or corrupted: the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad(path, "corrupted: the header is not a JSON object")
    return header, 8 + n


def _check_entries(path, header, data_size):
    """[(name, dtype, shape, begin, end)] sorted by offset, checked against the data size."""
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise _bad(path, f"corrupted: tensor '{name}' needs dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _DTYPES:
            raise _bad(path, f"tensor '{name}' has dtype {dtype!r}, which lamina can't load "
                             f"(supported: {', '.join(_DTYPES)})")
        if (not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                   for s in shape)):
            raise _bad(path, f"corrupted: tensor '{name}' has shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise _bad(path, f"corrupted: tensor '{name}' has data_offsets {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end or end > data_size:
            raise _bad(path, f"truncated or corrupted: tensor '{name}' has data_offsets [{begin}, {end}] but the "
                             f"data section has {data_size} bytes")
        if end - begin != math.prod(shape) * _DTYPES[dtype][0].itemsize:
            raise _bad(path, f"corrupted: tensor '{name}' of dtype {dtype} and shape {shape} needs "
                             f"{math.prod(shape) * _DTYPES[dtype][0].itemsize} bytes, its data_offsets give {end - begin}")
        entries.append((name, dtype, shape, begin, end))
    entries.sort(key=lambda e: e[3])
    position = 0
    for name, _, _, begin, end in entries:
        if begin != position:
            raise _bad(path, f"corrupted: tensor '{name}' starts at byte {begin} of the data section, expected {position} "
                             "(tensors must be contiguous and must not overlap)")
        position = end
    if position != data_size:
        raise _bad(path, f"corrupted: the tensors cover {position} bytes but the data section has {data_size}")
    return entries


def _decode(node, tensors, path):
    if isinstance(node, dict):
        if len(node) != 1:
            raise _bad(path, f"corrupted lamina structure: unexpected object {node!r}")
        (kind, value), = node.items()
        if kind == "tensor":
            if value not in tensors:
                raise _bad(path, f"corrupted: the structure refers to tensor {value!r}, which the file lacks")
            return tensors[value]
        if kind == "dict" and isinstance(value, list) and all(
                isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], (str, int)) for kv in value):
            return {k: _decode(v, tensors, path) for k, v in value}
        if kind in ("list", "tuple") and isinstance(value, list):
            items = [_decode(v, tensors, path) for v in value]
            return tuple(items) if kind == "tuple" else items
        if kind == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        raise _bad(path, f"corrupted lamina structure: unexpected object {node!r}")
    if isinstance(node, list):
        raise _bad(path, "corrupted lamina structure: a bare list")
    return node


def load(f, map_location=None, weights_only=True):
    """Loads what lamina.save wrote, or any safetensors file (then a dict of tensor name ->
    tensor, in file order). F16/BF16 tensors load as float32 and I32/I16/I8/U8 as int64 (exact).
    map_location moves the tensors to a device. weights_only is accepted for PyTorch
    compatibility: lamina files hold data only, always.

    A file that is truncated, corrupted or not safetensors raises ValueError naming the file
    and what is wrong.
    """
    path = os.fspath(f)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        header, data_start = _read_header(path, fh, size)
        metadata = header.get("__metadata__", {})
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise _bad(path, "corrupted: __metadata__ must map strings to strings")
        tensors = {}
        for name, dtype, shape, begin, end in _check_entries(path, header, size - data_start):
            arr = np.empty(end - begin, dtype=np.uint8)
            fh.seek(data_start + begin)
            if fh.readinto(memoryview(arr)) != end - begin:
                raise _bad(path, f"truncated: tensor '{name}' could not be read in full")
            tensors[name] = _convert(arr, dtype, shape, map_location)
    if _STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[_STRUCTURE_KEY])
    except json.JSONDecodeError as e:
        raise _bad(path, f"corrupted: the lamina structure is not valid JSON ({e})") from None
    return _decode(structure, tensors, path)


def _convert(raw, dtype, shape, map_location):
    """A tensor from the raw bytes of one entry: native byte order, widened to a lamina dtype."""
    file_dtype, lamina_dtype = _DTYPES[dtype]
    arr = raw.view(file_dtype).reshape(shape)
    if dtype == "BF16":  # bfloat16 is the upper half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    target = {_C.dtype.float32: np.float32, _C.dtype.float64: np.float64, _C.dtype.int64: np.int64,
              _C.dtype.bool: np.bool_}[lamina_dtype]
    t = _C.from_numpy(arr.astype(target, copy=False))  # contiguous: a fresh buffer per tensor
    return t if map_location is None else t.to(str(map_location))
