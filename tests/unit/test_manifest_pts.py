"""The pseudo-terminal grant: `pyrene.dev.pts` in a manifest and `--pts` on the command
line (what it does is in tests/compat/test_pty.py)."""

from __future__ import annotations

import tomllib

import pytest

from pyrene.manifest.default import default_manifest
from pyrene.manifest.dump import to_dict
from pyrene.manifest.load import ManifestError, from_dict, load_string
from pyrene.manifest.overrides import Overrides, apply

BASE = 'libos.entrypoint = "/bin/app"\n'


def load(text: str):  # type: ignore[no-untyped-def]
    return load_string(BASE + text, "app.manifest", cwd="/host/cwd")


@pytest.mark.parametrize("text, dev, pts", [
    ("", True, False),
    ("pyrene.dev = true", True, False),
    ("pyrene.dev = false", False, False),
    ("pyrene.dev.pts = true", True, True),
    ("pyrene.dev.pts = false", True, False),
    ("[pyrene.dev]\npts = true", True, True),
])
def test_grant(text, dev, pts):
    result = load(text)
    assert result.warnings == []
    m = result.manifest
    assert (any(s.type == "dev" for s in m.mounts), m.dev_pts) == (dev, pts)


@pytest.mark.parametrize("text, expected", [
    ('pyrene.dev.pts = "yes"', 'pyrene: app.manifest: pyrene.dev.pts: expected true or false, got "yes"'),
    ("pyrene.dev = 1", "pyrene: app.manifest: pyrene.dev: expected true, false or a table of /dev grants "
                       "(pyrene.dev.pts), got 1"),
])
def test_errors(text, expected):
    with pytest.raises(ManifestError) as info:
        load(text)
    assert (str(info.value), info.value.status) == (expected, 2)


def test_unknown_dev_key_is_warned():
    assert load("pyrene.dev.ttys = true").warnings == [
        "pyrene: app.manifest: pyrene.dev.ttys: unknown key, ignored"]


def test_flag():
    assert apply(default_manifest("/w"), Overrides(pts=True), host_cwd="/").dev_pts
    assert not apply(default_manifest("/w"), Overrides(), host_cwd="/").dev_pts
    no_dev = load("pyrene.dev = false").manifest
    with pytest.raises(ManifestError) as info:
        apply(no_dev, Overrides(pts=True), host_cwd="/")
    assert str(info.value) == "pyrene: command line: --pts: the manifest mounts no /dev (pyrene.dev = false)"


@pytest.mark.parametrize("pts", [False, True])
def test_dump_round_trip(pts):
    tomli_w = pytest.importorskip("tomli_w")
    m = load(f"pyrene.dev.pts = {'true' if pts else 'false'}").manifest
    again = from_dict(tomllib.loads(tomli_w.dumps(to_dict(m, "/c"))), "app.manifest", "/c").manifest
    assert again.dev_pts == pts and any(s.type == "dev" for s in again.mounts)
