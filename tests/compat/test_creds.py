"""Credentials, native vs Pyrene: a root program gives up its ids, groups and
capabilities step by step (tests/compat/c/creds.c) and checks what file access follows.
Natively it really changes its own ids, so it runs only as root, in a scratch cwd owned
by the uid it drops to; it removes everything it creates there."""

from __future__ import annotations

import os

import pytest

from pyrene.testing.compare import assert_same

LINKS = ["dynamic", "static"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the program starts as root and gives it up")
@pytest.mark.parametrize("link", LINKS)
def test_creds(cbuild, tmp_path, link):
    program = cbuild("creds.c", link=link)
    os.chown(tmp_path, 1000, 1000)
    os.chmod(tmp_path, 0o755)
    os.chmod(program, 0o755)
    assert_same([program], cwd=tmp_path)
    assert os.listdir(tmp_path) == []
