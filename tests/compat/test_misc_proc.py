"""Per-process odds and ends, native vs Pyrene (tests/compat/c/misc_proc.c): nice values
and scheduling policies with their permission rules, getrusage/times, and the prctl flags.
As root the program ends as uid 1000 to check what an unprivileged process may not do."""

from __future__ import annotations

import os

import pytest

from pyrene.testing.compare import assert_same

LINKS = ["dynamic", "static"]


@pytest.mark.parametrize("link", LINKS)
def test_misc_proc(cbuild, tmp_path, link):
    program = cbuild("misc_proc.c", link=link)
    assert_same([program], cwd=tmp_path)
    assert os.listdir(tmp_path) == []
