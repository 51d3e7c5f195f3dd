from pathlib import Path

import pytest

from appliance import appfiles
from appliance.errors import UserError


def test_procfile_parsing() -> None:
    text = (
        "# comment\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n\n"
        "worker:  python w.py\nrelease: ./migrate\n"
    )
    assert appfiles.parse_procfile(text) == {
        "web": "gunicorn app:app --bind 0.0.0.0:$PORT",
        "worker": "python w.py",
        "release": "./migrate",
    }


@pytest.mark.parametrize(
    "text", ["web gunicorn", "Web: x", "web:", "web: a\nweb: b", "bad type: x"]
)
def test_bad_procfiles(text: str) -> None:
    with pytest.raises(UserError, match="Procfile line"):
        appfiles.parse_procfile(text)


def test_app_json() -> None:
    assert appfiles.parse_app_json('{"scripts": {"dokku": {"predeploy": "x"}}}')["scripts"]
    with pytest.raises(UserError, match="not valid JSON"):
        appfiles.parse_app_json("{")
    with pytest.raises(UserError, match="JSON object"):
        appfiles.parse_app_json("[]")


def test_procfile_bounds() -> None:
    many = "".join(f"p{n}: run\n" for n in range(appfiles.MAX_PROCESS_TYPES))
    assert len(appfiles.parse_procfile(many)) == appfiles.MAX_PROCESS_TYPES
    with pytest.raises(UserError, match="at most 100 process types"):
        appfiles.parse_procfile(many + "extra: run\n")
    with pytest.raises(UserError, match="longer than 4 KiB"):
        appfiles.parse_procfile("web: " + "x" * 4097)


def test_app_json_deep_nesting() -> None:
    with pytest.raises(UserError, match="nested too deeply"):
        appfiles.parse_app_json("[" * 100_000 + "]" * 100_000)


def test_files_through_a_link_leaving_the_tree(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "Procfile").symlink_to("/etc/passwd")
    (source / "app.json").symlink_to("/etc/passwd")
    passwd = Path("/etc/passwd").read_text().splitlines()
    for read in (appfiles.read_procfile, appfiles.read_app_json):
        with pytest.raises(UserError) as caught:
            read(source)
        assert "leaves the repository" in str(caught.value)
        assert not any(line and line in str(caught.value) for line in passwd)


def test_missing_files(tmp_path: Path) -> None:
    assert appfiles.read_procfile(tmp_path) == {}
    assert appfiles.read_app_json(tmp_path) == {}
