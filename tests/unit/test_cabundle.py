"""appliance.cabundle: the CA bundle builds mount holds PEM certificates and nothing else."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from appliance import cabundle, state
from appliance.errors import UserError
from appliance.registry import Registry

_registry = Registry()
builds = _registry.import_module(_registry.get("builder"), "builds")



def certificate(seed: int) -> str:
    body = base64.b64encode(bytes(range(seed, seed + 200)) * 3).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    + base64.b64encode(b"k" * 90).decode()
    + "\n-----END OPENSSH PRIVATE KEY-----\n"
)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.pem"
    path.write_text("# proxy CA\n" + certificate(1) + "\n# another\n" + certificate(7))
    return path


def test_a_bundle_of_certificates_passes(bundle: Path) -> None:
    assert cabundle.read_ca_bundle(str(bundle)) == bundle.read_bytes()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (KEY, "something other than PEM CERTIFICATE"),
        (certificate(1) + KEY, "something other than PEM CERTIFICATE"),
        ("root:x:0:0:root:/root:/bin/bash\n" + certificate(1), "something other than"),
        ("-----BEGIN CERTIFICATE-----\nQUJD=A\n-----END CERTIFICATE-----\n", "not base64"),
        ("", "no PEM CERTIFICATE block"),
        ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "something other"),
        ("\u00e9" + certificate(1), "not ASCII"),
    ],
)
def test_anything_but_certificates_is_refused(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "bundle.pem"
    path.write_text(text)
    with pytest.raises(UserError, match=why) as caught:
        cabundle.read_ca_bundle(str(path))
    assert "root:x" not in str(caught.value) and "PRIVATE" not in str(caught.value)


def test_links_folders_fifos_and_huge_files_are_refused(bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "link.pem").symlink_to(bundle)
    (tmp_path / "dir").symlink_to(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "huge.pem").write_text(certificate(1) * (cabundle.CA_MAX // 800 + 10))
    for path, why in [
        (tmp_path / "link.pem", "symbolic link"),
        (tmp_path / "dir" / "bundle.pem", "symbolic link"),
        (tmp_path, "not a regular file"),
        (tmp_path / "fifo", "not a regular file"),
        (tmp_path / "huge.pem", "larger than 5 MiB"),
        (tmp_path / "missing.pem", "cannot be read"),
    ]:
        with pytest.raises(UserError, match=why):
            cabundle.read_ca_bundle(str(path))
    with pytest.raises(UserError, match="not an absolute path"):
        cabundle.read_ca_bundle("bundle.pem")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_the_appliance_cannot_read_is_refused(bundle: Path) -> None:
    bundle.chmod(0)
    with pytest.raises(UserError, match="cannot be read"):
        cabundle.read_ca_bundle(str(bundle))


def test_set_global_refuses_a_host_key_and_changes_nothing(run, root: Path, tmp_path: Path) -> None:
    key = tmp_path / "ssh_host_ed25519_key"
    key.write_text(KEY)
    before = (root / "settings.toml").read_bytes() if (root / "settings.toml").exists() else None
    refused = run("builder:set-global", "ca-bundle", str(key))
    assert refused.code == 1 and "PRIVATE" not in refused.err and len(refused.err.splitlines()) == 1
    after = (root / "settings.toml").read_bytes() if (root / "settings.toml").exists() else None
    assert after == before
    assert run("builder:set-global", "ca-bundle", "/etc/shadow").code == 1


def test_builds_get_a_checked_copy_and_a_bundle_gone_bad_fails_the_build(
    run, root: Path, bundle: Path
) -> None:
    assert run("builder:set-global", "ca-bundle", str(bundle)).code == 0
    copy = builds.host_ca_bundle()
    assert copy is not None and Path(copy).is_relative_to(root)
    assert Path(copy).read_bytes() == bundle.read_bytes()
    bundle.write_text(certificate(1) + KEY)  # changed after it was set
    with pytest.raises(UserError, match=r"builder:set-global ca-bundle\)$"):
        builds.host_ca_bundle()
    bundle.unlink()
    bundle.symlink_to("/etc/ssh/ssh_host_ed25519_key")
    with pytest.raises(UserError, match="symbolic link"):
        builds.host_ca_bundle()


def test_a_system_default_that_does_not_pass_is_not_used(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "system.crt"
    bad.write_text(KEY)
    monkeypatch.setattr(cabundle, "DEFAULT_CA_BUNDLES", (str(bad),))
    assert state.global_settings().get("builder", "ca_bundle") is None
    assert builds.host_ca_bundle() is None
