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
