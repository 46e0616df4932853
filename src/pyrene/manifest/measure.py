"""Measuring trusted files as `gramine-manifest` does: a `file:` URI ending in '/' stands
for every regular file below it (recursively, not following symlinked directories), and a
file without a sha256 is hashed now. Used when rendering a template (to write the hashes
out), when starting a sandbox (the hashes are then checked at open time, fs/trusted.py)
and by `pyrene manifest check` (to report mismatches)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from .load import ManifestError
from .schema import TrustedFile


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expand(entry: TrustedFile) -> Iterator[TrustedFile]:
    """The regular files an entry stands for (itself, unless it is a directory URI)."""
    if not entry.path.endswith("/"):
        yield entry
        return
    for dirpath, dirnames, filenames in os.walk(entry.path):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.isfile(full) and os.access(full, os.R_OK):
                yield TrustedFile(full)


def measure(entries: tuple[TrustedFile, ...], source: str, check: bool = False) -> list[TrustedFile]:
    """Every entry expanded, with its sha256 (computed when missing; with `check`, also
    computed when given, and a mismatch is an error)."""
    out: dict[str, TrustedFile] = {}
    for i, entry in enumerate(entries):
        key = f"sgx.trusted_files[{i}]"
        for tf in expand(entry):
            try:
                actual = sha256_file(tf.path) if tf.sha256 is None or check else tf.sha256
            except OSError as exc:
                raise ManifestError(source, key, f"file:{tf.path}: {exc.strerror}") from None
            if tf.sha256 is not None and actual != tf.sha256:
                raise ManifestError(source, key, f"file:{tf.path}: sha256 mismatch: the file has {actual}, "
                                                 f"the manifest says {tf.sha256}")
            if tf.path in out and out[tf.path].sha256 != actual:
                raise ManifestError(source, key, f"file:{tf.path}: listed twice with different sha256")
            out[tf.path] = TrustedFile(tf.path, actual)
    return list(out.values())
