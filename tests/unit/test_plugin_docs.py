"""docs/plugins.md cannot drift: its hook reference and public API section are what
scripts/plugin-docs.py makes from appliance/hookspecs.py and appliance.api, and every
hookspec has a docstring that starts with its kind.

The generator is loaded as a module and called directly (no subprocess); its API
rendering is proven here on a small fake api module, before the real one exists.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

TOP = Path(__file__).resolve().parents[2]


def _load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("plugin_docs", TOP / "scripts/plugin-docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["plugin_docs"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
SPECS = gen.read_hookspecs()


def test_docs_are_what_the_generator_makes() -> None:
    current = gen.DOCS.read_text()
    wanted = gen.expected()
    assert current == wanted, gen.summary(current, wanted)


def test_every_hookspec_is_read() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) >= 30 and len(set(names)) == len(names)
    assert names[0] == "appliance_app_created" and "appliance_build" in names


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_hookspec_docstring_starts_with_its_kind(spec: Any) -> None:
    assert spec.doc, f"{spec.name} has no docstring"
    assert spec.kind in gen.KINDS, (
        f"{spec.name}'s docstring must start with one of {gen.KINDS}, then a colon"
    )
    assert gen.problems([spec]) == []


FAKE_SPECS = '''
from __future__ import annotations

from appliance.markers import hookspec


@hookspec(firstresult=True)
def appliance_pick(app: App, *, hint: str | None = None) -> list[Target] | None:
    """Decision (pipeline): pick one.

    Return it.
    """


@hookspec
def appliance_silent(app: App) -> None:
    pass


@hookspec
def appliance_vague(app: App) -> None:
    """Something happens."""


@hookspec
def appliance_claims(app: App) -> str | None:
    """Decision: the first answer wins, yet it is not firstresult."""


def appliance_not_a_spec(app: App) -> None:
    """Event (isolated): no marker, so no hook."""


class Later:
    @hookspec
    def appliance_in_class(self, deploy: Deploy) -> dict[str, Any]:
        """Collect: specs may live in a class namespace."""
'''


def test_hookspecs_are_read_as_written_without_importing(tmp_path: Path) -> None:
    source = tmp_path / "hookspecs.py"
    source.write_text(FAKE_SPECS)
    specs = gen.read_hookspecs(source)
    assert [s.name for s in specs] == [
        "appliance_pick",
        "appliance_silent",
        "appliance_vague",
        "appliance_claims",
        "appliance_in_class",
    ]
    pick = specs[0]
    assert pick.signature == (
        "def appliance_pick(app: App, *, hint: str | None=None) -> list[Target] | None"
    )
    assert pick.options == {"firstresult": True} and pick.kind == "Decision (pipeline)"
    assert specs[-1].signature == "def appliance_in_class(deploy: Deploy) -> dict[str, Any]"
    assert gen.problems(specs) == [
        "appliance_silent has no docstring",
        f"appliance_vague's docstring must start with one of: {', '.join(gen.KINDS)}:",
        "appliance_claims: a Decision is firstresult=True, and only a Decision is",
    ]


def test_a_hook_renders_with_its_decorator_kind_and_docstring(tmp_path: Path) -> None:
    source = tmp_path / "hookspecs.py"
    source.write_text(FAKE_SPECS)
    text = gen.render_hook(gen.read_hookspecs(source)[0])
    assert text == textwrap.dedent(
        """\
        ### appliance_pick

        ```python
        @hookspec(firstresult=True)
        def appliance_pick(app: App, *, hint: str | None=None) -> list[Target] | None
        ```

        **Decision (pipeline).** Pick one.

        Return it.
        """
    )


DOC = """# Guide

Hand-written, kept.

<!-- hooks:begin -->
stale
<!-- hooks:end -->

Between, kept.

<!-- api:begin -->
<!-- api:end -->

The end, kept.
"""


def test_only_the_marked_blocks_are_replaced(tmp_path: Path) -> None:
    source = tmp_path / "hookspecs.py"
    source.write_text(FAKE_SPECS)
    specs = gen.read_hookspecs(source)[:1]
    made = gen.generate(DOC, specs, None)
    assert "stale" not in made and "### appliance_pick" in made
    for kept in ("# Guide\n\nHand-written, kept.\n", "Between, kept.", "The end, kept.\n"):
        assert kept in made
    assert f"<!-- api:begin -->\n\n{gen.API_PLACEHOLDER}\n\n<!-- api:end -->" in made
    assert gen.generate(made, specs, None) == made
    with pytest.raises(ValueError, match="hooks:begin"):
        gen.generate(DOC.replace("<!-- hooks:end -->", ""), specs, None)


def test_the_check_says_in_one_line_what_is_out_of_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen.main(["--check"]) == 0
    stale = tmp_path / "plugins.md"
    stale.write_text(gen.DOCS.read_text().replace("**Collect.**", "**Collect!**", 1))
    monkeypatch.setattr(gen, "DOCS", stale)
    capsys.readouterr()
    assert gen.main(["--check"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "out of date from line" in err and "(-1/+1 lines)" in err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


FAKE_API = '''
"""The one module a plugin imports."""

from __future__ import annotations

from fake_api_pkg import helpers

__all__ = ["hookimpl", "Thing", "helpers", "LIMIT", "bare"]

LIMIT = 3
"""How many at most.

Not more."""


def hookimpl(function: Callable[..., Any] | None = None, *, trylast: bool = False) -> Any:
    """Mark a hook implementation.

    Accepts `trylast`.
    """


class Thing:
    """A thing hooks receive."""

    def __init__(self, name: str) -> None:
        self.name = name

    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold its lock.

        Re-entrant."""

    @property
    def label(self) -> str:
        """Its label."""
        return self.name

    def _private(self) -> None:
        """Not shown."""


def bare(first_argument: str, second_argument: int = 0, *, third: list[str] | None = None) -> None:
    pass
'''

FAKE_HELPERS = '''
"""Helpers a plugin may use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def write(path: Path, data: str, mode: int = 0o644) -> None:
    """Write `data` atomically.

    A temporary file is renamed into place."""


def _hidden() -> None:
    """Private."""


class Record:
    """One record."""


@dataclass
class Entry:
    number: int
    label: str = ""
'''


@pytest.fixture
def fake_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    package = tmp_path / "fake_api_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "api.py").write_text(FAKE_API)
    (package / "helpers.py").write_text(FAKE_HELPERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("fake_api_pkg", "fake_api_pkg.api", "fake_api_pkg.helpers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = gen.load_api("fake_api_pkg.api")
    assert module is not None
    return module


def test_the_api_section_lists_every_exported_name_with_its_contract(
    fake_api: types.ModuleType,
) -> None:
    text = gen.render_api(fake_api)
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert headings == [
        "### `hookimpl`",
        "### `Thing`",
        "### `helpers` (module)",
        "### `LIMIT`",
        "### `bare`",
    ]
    assert "`fake_api_pkg.api` exports 5 names" in text
    assert (
        "hookimpl(function: Callable[..., Any] | None = None, *, trylast: bool = False) -> Any"
        in text
    )
    assert "Mark a hook implementation.\n\nAccepts `trylast`." in text
    assert "class Thing(name: str)\n" in text
    assert (
        "* `Thing.lock(timeout: float | None = None) -> Iterator[None]`: Hold its lock.\n" in text
    )
    assert "* `Thing.label` (property): Its label." in text and "_private" not in text
    assert "* `helpers.write(path: Path, data: str, mode: int = 420) -> None`: Write" in text
    assert "A temporary file" not in text and "_hidden" not in text
    assert "* `class helpers.Record()`: One record." in text
    assert "LIMIT = 3\n```\n\nHow many at most.\n\nNot more." in text
    assert "* `class helpers.Entry(number: int, label: str = '')`: *(undocumented)*" in text
    assert text.count(gen.UNDOCUMENTED) == 2  # `bare`, and `Entry`: dataclass's doc is no doc
    assert (
        "bare(\n    first_argument: str,\n    second_argument: int = 0,\n    *,\n"
        "    third: list[str] | None = None,\n) -> None\n"
    ) in text


def test_a_value_the_api_re_exports_is_documented_where_it_is_defined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fake_values_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "values.py").write_text('ROOT = "/srv"\n"""Where it lives."""\n')
    (package / "api.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from fake_values_pkg.values import ROOT\n"
        "if TYPE_CHECKING:\n    from fake_values_pkg.values import ROOT as AGAIN\n"
        '__all__ = ["ROOT", "AGAIN"]\nAGAIN = ROOT\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("fake_values_pkg", "fake_values_pkg.api", "fake_values_pkg.values"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = gen.load_api("fake_values_pkg.api")
    assert module is not None
    text = gen.render_api(module)
    assert "ROOT = '/srv'\n```\n\nWhere it lives.\n" in text
    assert "AGAIN = '/srv'\n```\n\nWhere it lives.\n" in text  # found by its own name
    assert gen.UNDOCUMENTED not in text


def test_until_appliance_api_exists_the_section_is_one_placeholder_line() -> None:
    assert gen.load_api("appliance.no_such_module") is None
    assert gen.render_api(None).strip() == gen.API_PLACEHOLDER
    assert "\n" not in gen.API_PLACEHOLDER


def test_every_name_of_the_real_api_is_documented() -> None:
    api = gen.load_api()
    if api is not None:
        assert gen.UNDOCUMENTED not in gen.render_api(api)
