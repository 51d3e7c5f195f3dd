"""git:from-archive: what an archive may hold and how large it may be once unpacked,
and where a URL may be fetched from (no loopback, private, link-local or own address;
the checked address is the one connected to; redirects pass the same check)."""

from __future__ import annotations

import http.server
import io
import ipaddress
import socket
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.errors import UserError
from appliance.registry import Registry
from appliance.state import App


def _module(name: str) -> Any:
    registry = Registry()
    return registry.import_module(registry.get("git"), name)


def _tar(*members: tuple[tarfile.TarInfo, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


def _unpack(tmp_path: Path, data: bytes) -> Path:
    blob = tmp_path / "archive"
    blob.write_bytes(data)
    return _module("archive").unpack(blob, tmp_path / "source")


@pytest.mark.parametrize("tarfile_filter", [True, False])
def test_a_plain_archive_unpacks_with_its_top_folder_as_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tarfile_filter: bool
) -> None:
    """With and without tarfile's data filter (Debian's Python 3.11.2 lacks it)."""
    if not tarfile_filter:
        monkeypatch.setattr(_module("archive"), "DATA_FILTER", {})
    data = _tar(
        (_member("app-1.0", tarfile.DIRTYPE), b""),
        (_member("app-1.0/Procfile"), b"web: run\n"),
        (_member("app-1.0/static", tarfile.DIRTYPE), b""),
        (_member("app-1.0/current", tarfile.SYMTYPE, "static"), b""),
    )
    source = _unpack(tmp_path, data)
    assert source == tmp_path / "source" / "app-1.0"
    assert (source / "Procfile").read_text() == "web: run\n"
    assert (source / "Procfile").stat().st_mode & 0o777 == 0o644
    assert (source / "current").is_symlink() and (source / "current").resolve() == source / "static"


@pytest.mark.parametrize(
    "members, message",
    [
        ([("../escape.txt", tarfile.REGTYPE, "")], "outside the source"),
        ([("/etc/cron.d/x", tarfile.REGTYPE, "")], "outside the source"),
        ([("a/../../x", tarfile.REGTYPE, "")], "outside the source"),
        ([("up", tarfile.SYMTYPE, "..")], "a symbolic link to '..' that leaves its folder"),
        ([("root", tarfile.SYMTYPE, "/")], "a symbolic link to '/' that leaves its folder"),
        ([("d/l", tarfile.SYMTYPE, "x/../..")], "leaves its folder"),
        ([("l", tarfile.SYMTYPE, "d"), ("l/x", tarfile.REGTYPE, "")], "inside a symbolic link"),
        ([("f", tarfile.REGTYPE, ""), ("h", tarfile.LNKTYPE, "f")], "a hard link"),
        ([("h", tarfile.LNKTYPE, "/etc/shadow")], "a hard link"),
        ([("dev", tarfile.CHRTYPE, "")], "not a file, folder or symbolic link"),
        ([("blk", tarfile.BLKTYPE, "")], "not a file, folder or symbolic link"),
        ([("fifo", tarfile.FIFOTYPE, "")], "not a file, folder or symbolic link"),
        ([("/".join(["d"] * 65), tarfile.REGTYPE, "")], "deeper than 64 folders"),
        ([("x" * 4097, tarfile.REGTYPE, "")], "longer than 4096 characters"),
    ],
)
def test_special_members_are_refused(
    tmp_path: Path, members: list[tuple[str, bytes, str]], message: str
) -> None:
    data = _tar(*((_member(name, kind, link), b"x") for name, kind, link in members))
    with pytest.raises(UserError, match=message):
        _unpack(tmp_path, data)
    assert not any((tmp_path / "source").rglob("*"))  # nothing written before the refusal


def test_a_member_claiming_a_huge_size_is_refused_from_its_header(tmp_path: Path) -> None:
    """A few hundred bytes that would unpack to 2 GiB: refused before any data is read."""
    header = _member("big.bin")
    header.size = 2 << 30
    import gzip

    data = gzip.compress(header.tobuf(tarfile.GNU_FORMAT) + bytes(4096))
    assert len(data) < 1024
    with pytest.raises(UserError, match="unpacks to more than 1024 MiB"):
        _unpack(tmp_path, data)
    assert not any((tmp_path / "source").rglob("*"))


def test_the_unpacked_size_adds_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_module("archive"), "MAX_UNPACKED", 10_000)
    data = _tar(*((_member(f"f{i}"), bytes(3000)) for i in range(4)))
    with pytest.raises(UserError, match="unpacks to more than 0 MiB"):
        _unpack(tmp_path, data)


def test_too_many_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_module("archive"), "MAX_MEMBERS", 50)
    with pytest.raises(UserError, match="more than 50 members"):
        _unpack(tmp_path, _tar(*((_member(f"f{i}"), b"") for i in range(51))))
    (tmp_path / "ok").mkdir()
    assert _unpack(tmp_path / "ok", _tar(*((_member(f"f{i}"), b"") for i in range(50))))


def test_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a tar archive"):
        _unpack(tmp_path, b"hello, this is text")


def test_stdin_is_read_with_a_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _module("archive")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x" * 100)))
    fingerprint = archive.read("-", tmp_path / "a")
    assert fingerprint.startswith("archive-") and (tmp_path / "a").read_bytes() == b"x" * 100
    monkeypatch.setattr(archive, "MAX_BYTES", 99)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x" * 100)))
    with pytest.raises(UserError, match="larger than"):
        archive.read("-", tmp_path / "b")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(UserError, match="the archive is empty"):
        archive.read("-", tmp_path / "c")
    with pytest.raises(UserError, match=r"neither '-' .stdin. nor an http.s. URL"):
        archive.read("file:///etc/passwd", tmp_path / "d")


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
     "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "::1", "::",
     "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
     "2002:7f00:1::1", "64:ff9b::7f00:1", "192.0.2.1"],
)  # fmt: skip
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    from appliance import netcheck

    assert not netcheck.is_public(netcheck.normalise(address))


def test_public_and_own_addresses() -> None:
    from appliance import netcheck

    assert netcheck.is_public(ipaddress.ip_address("93.184.216.34"))
    assert netcheck.is_own(ipaddress.ip_address("127.0.0.1"))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:22/x.tar.gz", "http://localhost/x.tar.gz", "http://[::1]:8080/x",
     "https://169.254.169.254/latest/meta-data", "http://10.0.0.1/a.tgz", "http://0/x",
     "http://2130706433/x", "http://0x7f000001/x", "http://127.1/x"],
)  # fmt: skip
def test_urls_to_internal_hosts_are_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("connected")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    with pytest.raises(UserError, match=r"refusing to fetch from|cannot resolve"):
        _module("archive").read(url, tmp_path / "a")


def test_the_checked_address_is_the_one_connected_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lookup: a DNS server answering a public address first and loopback second
    (rebinding) never gets the second question."""
    lookups: list[str] = []
    connected: list[Any] = []

    def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        answer = "93.184.216.34" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    def create_connection(address: Any, *args: Any) -> None:
        connected.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    with pytest.raises(UserError, match="cannot fetch"):
        _module("archive").read("http://rebind.example/x.tar.gz", tmp_path / "a")
    assert lookups == ["rebind.example"] and connected == [("93.184.216.34", 80)]


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A local web server the tests pretend is public (by pinning its name)."""
    replies: dict[str, Any] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = replies[self.path]
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://public.test:{httpd.server_address[1]}", replies
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def pretend_public(monkeypatch: pytest.MonkeyPatch) -> None:
    fetch = _module("fetch")
    real = fetch.resolve

    def resolve(host: str, port: int) -> Any:
        return ipaddress.ip_address("127.0.0.1") if host == "public.test" else real(host, port)

    monkeypatch.setattr(fetch, "resolve", resolve)


def test_a_download_and_its_redirects(
    tmp_path: Path, server: tuple[str, dict[str, Any]], pretend_public: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    base, replies = server
    data = _tar((_member("Procfile"), b"web: x\n"))
    replies["/a.tgz"] = (200, {"Content-Length": str(len(data))}, data)
    replies["/moved"] = (302, {"Location": "/a.tgz"}, b"")
    replies["/inside"] = (302, {"Location": f"http://127.0.0.1:{base.rsplit(':', 1)[1]}/a.tgz"},
                          b"")  # fmt: skip
    replies["/loop"] = (302, {"Location": "/loop"}, b"")
    replies["/missing"] = (404, {}, b"")
    archive = _module("archive")
    assert archive.read(f"{base}/moved", tmp_path / "a").startswith("archive-")
    assert (tmp_path / "a").read_bytes() == data
    with pytest.raises(UserError, match=r"refusing to fetch from 127\.0\.0\.1: .*public address"):
        archive.read(f"{base}/inside", tmp_path / "b")
    with pytest.raises(UserError, match="more than 5 redirects"):
        archive.read(f"{base}/loop", tmp_path / "c")
    with pytest.raises(UserError, match="HTTP 404"):
        archive.read(f"{base}/missing", tmp_path / "d")
    fetch = _module("fetch")
    monkeypatch.setattr(fetch, "MAX_DOWNLOAD", 100)
    with pytest.raises(UserError, match="larger than 0 MiB"):
        archive.read(f"{base}/a.tgz", tmp_path / "e")
    replies["/unsized"] = (200, {}, data)
    with pytest.raises(UserError, match="larger than 0 MiB"):
        archive.read(f"{base}/unsized", tmp_path / "f")


def test_from_archive_refused_creates_no_app(run) -> None:
    refused = run("git:from-archive", "fresh", "http://127.0.0.1:22/x.tar.gz")
    assert refused.code == 1 and "refusing to fetch from 127.0.0.1" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert not App("fresh").exists()
