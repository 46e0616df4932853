"""Gramine's file checks (`sgx.trusted_files`, `sgx.allowed_files`,
`sgx.file_check_policy`) for host-backed ("chroot") mounts, done at open time.

A trusted file may only be opened for reading, and only if the SHA-256 of its content is
the one the manifest names: the hash is computed over the very host fd that the app then
gets, so a file swapped between the check and the open is not possible; a change after
the open is (as in Gramine without SGX, the host owns the bytes). A mismatch is EACCES
for the app and a warning in Pyrene's log. Hashes of files already verified are cached by
(device, inode, size, mtime, ctime), so exec'ing the same binary twice hashes it once.

An allowed file may be opened and created freely. Any other file on a checked mount is
EACCES under the `strict` policy, and allowed with a warning under `allow_all_but_log`.
Directories, O_PATH opens, and mounts that are not host-backed (tmpfs, /proc, /dev) are
not checked. Files are named by their real host path (symlinks resolved on both sides),
so a manifest may name a file by any host path that leads to it.
"""

from __future__ import annotations

import errno
import os
import posixpath
from dataclasses import dataclass, field

from ..abi.flags import O_ACCMODE, S_IFDIR, S_IFMT, OpenFlags
from ..errors import Errno
from ..log import get_logger
from ..pal import linux as pal
from .file import OpenFile
from .host import HostFS

log = get_logger("pyrene.fs")

HASH_CHUNK = 1 << 20


@dataclass
class FileChecks:
    """What the manifest trusts and allows, by host path (shared by all checked mounts)."""

    trusted: dict[str, str]  # host path -> expected sha256 (hex)
    allowed: tuple[str, ...]  # host paths; ending in '/' allows the tree below
    strict: bool = True
    verified: set[tuple[int, int, int, int, int]] = field(default_factory=set)

    def is_allowed(self, host: str) -> bool:
        return any(host == a or (a.endswith("/") and host.startswith(a)) for a in self.allowed)


def sha256_of_fd(fd: int) -> str:
    import hashlib  # here: only manifests with trusted files need it

    digest = hashlib.sha256()
    offset = 0
    while True:
        chunk = pal.pread(fd, HASH_CHUNK, offset)
        if not chunk:
            return digest.hexdigest()
        digest.update(chunk)
        offset += len(chunk)


class CheckedHostFS(HostFS):
    """A host mount whose regular-file opens go through the manifest's file checks."""

    def __init__(self, host_path: str, readonly: bool, checks: FileChecks, real_root: str) -> None:
        super().__init__(host_path, readonly)
        self.checks = checks
        self.real_root = real_root  # host_path with its symlinks resolved

    def open(self, rel: str, flags: int, mode: int, path: str) -> OpenFile:
        if flags & OpenFlags.O_PATH:
            return super().open(rel, flags, mode, path)
        # `rel` has no symlinks (the VFS resolved them, the host open refuses them), so
        # this is the real host path, which is how FileChecks names files
        host = posixpath.join(self.real_root, rel) if rel else self.real_root
        checks = self.checks
        expected = checks.trusted.get(host)
        if expected is not None:
            tmpfile = flags & OpenFlags.O_TMPFILE == OpenFlags.O_TMPFILE
            if flags & O_ACCMODE != os.O_RDONLY or flags & OpenFlags.O_TRUNC or tmpfile:
                log.warning("%s: trusted file opened for writing: denied", path)
                raise Errno(errno.EACCES, "trusted files are read-only")
            file = super().open(rel, flags & ~OpenFlags.O_CREAT, mode, path)
            try:
                self._verify(file, expected, path)
            except Errno:
                file.release()
                raise
            return file
        if checks.is_allowed(host):
            return super().open(rel, flags, mode, path)
        try:
            st = self.lstat(rel)
        except Errno:
            st = None
        if st is not None and st.mode & S_IFMT == S_IFDIR:
            return super().open(rel, flags, mode, path)
        if checks.strict:
            log.warning("%s: not a trusted or allowed file (sgx.file_check_policy = \"strict\"): denied", path)
            raise Errno(errno.EACCES, "not trusted or allowed")
        log.warning("%s: not a trusted or allowed file, allowed by sgx.file_check_policy", path)
        return super().open(rel, flags, mode, path)

    def _verify(self, file: OpenFile, expected: str, path: str) -> None:
        fd = file.host_fd()
        assert fd is not None
        st = pal.fstat(fd)
        key = (st.dev, st.ino, st.size, st.mtime_ns, st.ctime_ns)
        if key in self.checks.verified:
            return
        actual = sha256_of_fd(fd)
        if actual != expected:
            log.error("%s: trusted file hash mismatch (sha256 %s, manifest says %s): denied", path, actual,
                        expected)
            raise Errno(errno.EACCES, "trusted file hash mismatch")
        self.checks.verified.add(key)
