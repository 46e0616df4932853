"""A typed `Manifest` written back as manifest data (TOML), so that `pyrene.run(...,
manifest=Manifest(...))` can hand it to the `python -m pyrene run` it spawns. What is
implicit in a Manifest object (the host's uid, the current directory) is made explicit;
load.from_dict(to_dict(m)) gives back the same grants."""

from __future__ import annotations

import os
from typing import Any

from .load import ManifestError
from .schema import Manifest


def to_dict(m: Manifest, cwd: str | None = None) -> dict[str, Any]:
    cwd = cwd or os.getcwd()
    if m.entrypoint is None:
        raise ManifestError(m.source, "libos.entrypoint", "missing: a Manifest object given to pyrene.run needs one")
    loader: dict[str, Any] = {
        "insecure__use_cmdline_argv": m.use_cmdline_argv,
        "insecure__use_host_env": m.use_host_env,
        "uid": os.getuid() if m.uid is None else m.uid,
        "gid": os.getgid() if m.gid is None else m.gid,
        "log_level": m.log_level,
        "env": {e.name: e.value if e.value is not None else {"passthrough": True} for e in m.env},
    }
    if m.argv is not None:
        loader["argv"] = list(m.argv)
    if m.log_file is not None:
        loader["log_file"] = m.log_file
    root = None
    mounts = []
    kinds = {"proc": False, "dev": False}
    readonly = []
    for spec in m.mounts:
        if spec.type in kinds:
            if spec.path != "/" + spec.type:
                raise ManifestError(m.source, spec.key or spec.path, f"a {spec.type} mount is only expressible "
                                                                     f"at /{spec.type}")
            kinds[spec.type] = True
            continue
        entry: dict[str, Any] = {"type": spec.type}
        if spec.type != "tmpfs":
            entry["uri"] = f"file:{spec.uri}"
        if spec.readonly:
            readonly.append(spec.path)
        if spec.path == "/" and root is None:
            root = entry
        else:
            mounts.append({"path": spec.path, **entry})
    fs: dict[str, Any] = {"start_dir": m.start_dir or cwd, "mounts": mounts}
    if root is not None:
        fs["root"] = root
    sys_: dict[str, Any] = {
        "fds": {"limit": m.fd_limit},
        "enable_sigterm_injection": m.sigterm_injection,
        "disallow_subprocesses": m.disallow_subprocesses,
    }
    if m.stack_size is not None:
        sys_["stack"] = {"size": str(m.stack_size)}
    if m.brk_max_size is not None:
        sys_["brk"] = {"max_size": str(m.brk_max_size)}
    sgx: dict[str, Any] = {"file_check_policy": m.file_check_policy}
    if m.trusted_files:
        sgx["trusted_files"] = [{"uri": f"file:{t.path}", **({"sha256": t.sha256} if t.sha256 else {})}
                                for t in m.trusted_files]
    if m.allowed_files:
        sgx["allowed_files"] = [f"file:{p}" for p in m.allowed_files]
    pyrene: dict[str, Any] = {"proc": kinds["proc"], "dev": kinds["dev"], "readonly": readonly}
    if kinds["dev"] and m.dev_pts:
        pyrene["dev"] = {"pts": True}
    if m.cpu is not None:
        pyrene["cpu"] = m.cpu
    pyrene["max_processes"] = m.max_processes
    return {"libos": {"entrypoint": m.entrypoint}, "loader": loader, "fs": fs, "sys": sys_, "sgx": sgx,
            "pyrene": pyrene}
