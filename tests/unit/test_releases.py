from pathlib import Path

import pytest

from appliance import releases
from appliance.errors import NotFound, UserError
from appliance.state import App


def test_ledger_is_append_only_and_private(root: Path) -> None:
    app = App("hello")
    release = releases.Release(
        number=1, summary="Deploy abc", user="alice", created_at=releases.now(),
        image="appliance/hello:build-1", config={"SECRET": "s3 cr=et\n\"x\""},
        procfile={"web": "python app.py"}, app_json={"healthchecks": {}},
    )  # fmt: skip
    releases.record(app, release)
    with pytest.raises(UserError, match="already recorded"):
        releases.record(app, release)
    path = releases.path_of(app, 1)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    loaded = releases.load(app, 1)
    assert loaded.config == {"SECRET": 's3 cr=et\n"x"'}
    assert loaded.procfile == {"web": "python app.py"}
    assert releases.numbers(app) == [1]
    assert releases.current(app) is None
    app.settings.set("core", "release", 1)
    assert releases.current(app).summary == "Deploy abc"  # type: ignore[union-attr]
    assert release.to_dict()["config"] == ["SECRET"]


def test_release_numbers(root: Path) -> None:
    assert releases.parse_number("v12") == 12
    assert releases.parse_number("3") == 3
    for bad in ("vx", "-1", "v1.2", ""):
        with pytest.raises(UserError):
            releases.parse_number(bad)
    with pytest.raises(NotFound):
        releases.load(App("ghost"), 4)
    with pytest.raises(UserError, match="not been deployed"):
        releases.require_current(App("ghost"))
