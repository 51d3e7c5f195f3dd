import pytest

from appliance import validate
from appliance.errors import UserError


@pytest.mark.parametrize("name", ["hello", "a", "my-app-2", "x" * 30])
def test_good_app_names(name: str) -> None:
    assert validate.app_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "Hello", "-x", "x-", "a--b", "1app", "a_b", "a.b", "../etc", "a b", "x" * 31, "a;rm"],
)
def test_bad_app_names(name: str) -> None:
    with pytest.raises(UserError):
        validate.app_name(name)


@pytest.mark.parametrize("name", ["example.com", "a.b-c.io", "Example.COM."])
def test_good_domains(name: str) -> None:
    assert validate.domain(name) == name.lower().rstrip(".")


@pytest.mark.parametrize("name", ["", "a..b", "-a.com", "a-.com", "a_b.com", "a.com;", "a com"])
def test_bad_domains(name: str) -> None:
    with pytest.raises(UserError):
        validate.domain(name)


@pytest.mark.parametrize("name", ["web", "worker-2", "a" * 63])
def test_process_types(name: str) -> None:
    assert validate.process_type(name) == name


@pytest.mark.parametrize("name", ["Web", "a" * 64, "we b", "-x"])
def test_bad_process_types(name: str) -> None:
    with pytest.raises(UserError):
        validate.process_type(name)


@pytest.mark.parametrize("name", ["main", "release/1.0", "feature-x"])
def test_branches(name: str) -> None:
    assert validate.branch(name) == name


@pytest.mark.parametrize("name", ["-x", "a..b", "a b", "x/", "$(id)"])
def test_bad_branches(name: str) -> None:
    with pytest.raises(UserError):
        validate.branch(name)
