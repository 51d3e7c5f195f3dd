"""appliance.tree: files of a pushed tree are never opened through a link leaving it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance import tree
from appliance.errors import UserError


@pytest.fixture
def src(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Procfile").write_text("web: run\n")
    (source / "sub").mkdir()
    (source / "sub" / "inner.txt").write_text("inner\n")
    return source


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "secret.toml"
    target.write_text("secret-line-17\n")
    return target


def test_reads_a_regular_file(src: Path) -> None:
    assert tree.read_text(src, "Procfile") == "web: run\n"
    assert tree.read_text(src, "sub/inner.txt") == "inner\n"
    assert tree.is_file(src, "Procfile")
    assert tree.is_dir(src, "sub")


def test_missing_is_none(src: Path) -> None:
    assert tree.read_text(src, "app.json") is None
    assert tree.read_text(src, "nope/app.json") is None
    assert tree.read_text(src, "Procfile/app.json") is None  # through a file
    assert not tree.is_file(src, "app.json")


def test_link_outside_is_refused_without_quoting(src: Path, outside: Path) -> None:
    (src / "app.json").symlink_to(outside)
    for probe in (tree.read_text, tree.is_file, tree.read_bytes):
        with pytest.raises(UserError) as caught:
            probe(src, "app.json")
        assert "app.json" in str(caught.value) and "leaves the repository" in str(caught.value)
        assert "secret" not in str(caught.value)


def test_relative_link_outside_is_refused(src: Path, outside: Path) -> None:
    (src / "Procfile").unlink()
    (src / "Procfile").symlink_to(f"../{outside.name}")
    with pytest.raises(UserError, match="leaves the repository"):
        tree.read_text(src, "Procfile")


def test_nested_folder_link_outside_is_refused(src: Path) -> None:
    (src / "a").symlink_to("/etc")
    with pytest.raises(UserError, match="a/passwd in the pushed source is a symbolic link"):
        tree.read_text(src, "a/passwd")
    with pytest.raises(UserError, match="leaves"):
        tree.entries(src, "a")


def test_link_inside_is_followed(src: Path) -> None:
    (src / "Procfile.link").symlink_to("Procfile")
    (src / "s").symlink_to("sub")
    assert tree.read_text(src, "Procfile.link") == "web: run\n"
    assert tree.read_text(src, "s/inner.txt") == "inner\n"
    (src / "back").symlink_to("sub/../Procfile")
    assert tree.read_text(src, "back") == "web: run\n"


def test_directory_fifo_and_loop_are_not_files(src: Path) -> None:
    (src / "app.json").mkdir()
    os.mkfifo(src / "CHECKS")
    (src / "loop").symlink_to("loop")
    for name in ("app.json", "CHECKS"):
        assert not tree.is_file(src, name)
        with pytest.raises(UserError, match="not a regular file"):
            tree.read_text(src, name)  # a fifo must not block either
    with pytest.raises(UserError):
        tree.read_text(src, "loop")


def test_size_bound(src: Path) -> None:
    (src / "app.json").write_bytes(b" " * (tree.MAX_FILE + 1))
    with pytest.raises(UserError, match="larger than 1 MiB"):
        tree.read_text(src, "app.json")
    assert tree.read_text(src, "Procfile", limit=9) == "web: run\n"
    with pytest.raises(UserError, match="larger than"):
        tree.read_text(src, "Procfile", limit=8)


def test_paths_must_be_plain(src: Path) -> None:
    for bad in ("/etc/passwd", "../x", "sub/../../x", ""):
        with pytest.raises(UserError, match="plain relative path"):
            tree.read_text(src, bad)


def test_replace_never_writes_through_a_link(src: Path, outside: Path) -> None:
    before = outside.read_bytes()
    (src / ".dockerignore").symlink_to(outside)
    tree.replace_text(src, ".dockerignore", "!x\n")
    assert outside.read_bytes() == before
    assert not (src / ".dockerignore").is_symlink()
    assert (src / ".dockerignore").read_text() == "!x\n"
    assert sorted(p.name for p in src.iterdir()) == [".dockerignore", "Procfile", "sub"]


def test_replace_keeps_an_inside_target(src: Path) -> None:
    (src / ".dockerignore").symlink_to("Procfile")
    tree.replace_text(src, ".dockerignore", "new\n")
    assert (src / "Procfile").read_text() == "web: run\n"
    assert (src / ".dockerignore").read_text() == "new\n"


def test_replace_in_a_folder_outside_is_refused(src: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (src / "d").symlink_to(elsewhere)
    with pytest.raises(UserError, match="leaves the repository"):
        tree.replace_text(src, "d/.dockerignore", "x")
    assert list(elsewhere.iterdir()) == []


def test_replace_a_directory_is_refused(src: Path) -> None:
    with pytest.raises(UserError, match="cannot write sub"):
        tree.replace_text(src, "sub", "x")
    assert (src / "sub" / "inner.txt").is_file()


def test_entries(src: Path) -> None:
    assert tree.entries(src) == ["Procfile", "sub"]
    assert tree.entries(src, "sub") == ["inner.txt"]
    assert tree.entries(src, "none") == []
