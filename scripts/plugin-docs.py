#!/usr/bin/env python3
"""Regenerate the parts of docs/plugins.md that the code already says.

    python scripts/plugin-docs.py           rewrite docs/plugins.md in place
    python scripts/plugin-docs.py --check   exit 1, with a one-line summary, when it is
                                            out of date (tests/unit/test_plugin_docs.py
                                            runs the same check)

Either exits 2, changing nothing, when a hookspec has no docstring or its docstring
does not start with its kind, or when a marker is missing.

Two blocks are generated, each between marker comments; everything outside them is
hand-written and kept as it is:

* `<!-- hooks:begin -->` ... `<!-- hooks:end -->`, the hook reference: every
  `@hookspec` of appliance/hookspecs.py in file order, with its signature, its
  decorator's options (`firstresult`), its kind and its docstring. hookspecs.py is
  read with `ast`, never imported: the signature is shown as written (type-only
  names need not resolve), and nothing it imports can break or slow the docs.
  A docstring is Markdown and starts with its kind, `Event (pipeline):`,
  `Event (isolated):`, `Decision:`, `Decision (pipeline):` or `Collect:`.
* `<!-- api:begin -->` ... `<!-- api:end -->`, the public API: every name in
  `appliance.api.__all__`, in that order, with its signature and docstring (for a
  class, its public methods; for a module, its public functions and classes with
  the first paragraph of their docstrings). This one is read by importing
  `appliance.api`: most of its names are re-exported from the modules that define
  them, so their docstrings and signatures live there, where `ast` over api.py alone
  would see only import lines; and api.py imports nothing heavy. A plain value
  assigned in api.py has no docstring at run time, so for it the string literal
  right after the assignment is read from the source; for a value api.py
  re-exports (`from appliance.state import DEFAULT_ROOT`, under `if TYPE_CHECKING:`
  too), from the source of the module it is imported from. Until the module exists
  the block is one placeholder line.

Standard library and the project only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import importlib.util
import inspect
import itertools
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOP = Path(__file__).resolve().parents[1]
DOCS = TOP / "docs" / "plugins.md"
HOOKSPECS = TOP / "appliance" / "hookspecs"
API_MODULE = "appliance.api"

KINDS = ("Event (pipeline)", "Event (isolated)", "Decision (pipeline)", "Decision", "Collect")
_KIND = re.compile(r"(?P<kind>(?:Event|Decision|Collect)(?: \([a-z]+\))?):\s*")
API_PLACEHOLDER = (
    "`appliance.api` does not exist yet; until it does, this guide names the core"
    " module each object comes from."
)
UNDOCUMENTED = "*(undocumented)*"


# --- hooks, read with ast -----------------------------------------------------------


@dataclass
class HookSpec:
    name: str
    args: str
    returns: str
    options: dict[str, Any] = field(default_factory=dict)
    doc: str = ""

    @property
    def kind(self) -> str | None:
        match = _KIND.match(self.doc)
        return match.group("kind") if match else None

    @property
    def signature(self) -> str:
        returns = f" -> {self.returns}" if self.returns else ""
        return f"def {self.name}({self.args}){returns}"


def _spec_options(decorators: list[ast.expr]) -> dict[str, Any] | None:
    """The options of a `@hookspec` / `@hookspec(...)` decorator, None without one."""
    for node in decorators:
        target = node.func if isinstance(node, ast.Call) else node
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name.endswith("hookspec"):
            if not isinstance(node, ast.Call):
                return {}
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
    return None


def read_hookspecs(path: Path = HOOKSPECS) -> list[HookSpec]:
    """Every `@hookspec` function of `path`, in file order (module level, or in a
    class used as a spec namespace, whose `self` pluggy drops). A package is read
    module by module, in the order its `__init__.py` imports them."""
    if path.is_dir():
        init = ast.parse((path / "__init__.py").read_text(), filename=str(path))
        modules = [
            node.module
            for node in init.body
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        ]
        return [spec for module in modules for spec in read_hookspecs(path / f"{module}.py")]
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, HookSpec]] = []
    scopes: list[tuple[list[ast.stmt], bool]] = [(tree.body, False)]
    scopes += [(n.body, True) for n in tree.body if isinstance(n, ast.ClassDef)]
    for body, in_class in scopes:
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            options = _spec_options(node.decorator_list)
            if options is None:
                continue
            arguments = node.args
            if in_class and arguments.args and arguments.args[0].arg == "self":
                arguments = ast.arguments(**{**vars(arguments), "args": arguments.args[1:]})
            spec = HookSpec(
                name=node.name,
                args=ast.unparse(arguments),
                returns=ast.unparse(node.returns) if node.returns else "",
                options=options,
                doc=inspect.cleandoc(ast.get_docstring(node, clean=False) or ""),
            )
            found.append((node.lineno, spec))
    return [spec for _, spec in sorted(found, key=lambda pair: pair[0])]


def problems(specs: list[HookSpec]) -> list[str]:
    """What keeps the hook reference from being generated: one line each."""
    found = []
    for spec in specs:
        if not spec.doc:
            found.append(f"{spec.name} has no docstring")
        elif spec.kind not in KINDS:
            found.append(f"{spec.name}'s docstring must start with one of: {', '.join(KINDS)}:")
        elif bool(spec.options.get("firstresult")) != spec.kind.startswith("Decision"):
            found.append(f"{spec.name}: a Decision is firstresult=True, and only a Decision is")
    return found


def render_hook(spec: HookSpec) -> str:
    options = ", ".join(f"{k}={v!r}" for k, v in spec.options.items() if v)
    decorator = f"@hookspec({options})\n" if options else ""
    body = _KIND.sub("", spec.doc, count=1)
    body = body[:1].upper() + body[1:]
    return (
        f"### {spec.name}\n\n```python\n{decorator}{spec.signature}\n```\n\n"
        f"**{spec.kind}.** {body}\n"
    )


def render_hooks(specs: list[HookSpec]) -> str:
    return "\n".join(render_hook(spec) for spec in specs)


# --- the public API, read by importing it ----------------------------------------------


class _Annotation:
    """An annotation shown as its source text (hookspecs and api use PEP 563 strings)."""

    def __init__(self, value: Any) -> None:
        self.text = value if isinstance(value, str) else inspect.formatannotation(value)

    def __repr__(self) -> str:
        return self.text


def signature(obj: Any, method: bool = False) -> str:
    """`(app: App, out: Output) -> None` with annotations as written, without `self`
    for a `method` and without a class's `-> None`; `(...)` when Python cannot tell."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    empty = inspect.Signature.empty
    params = [
        p.replace(annotation=_Annotation(p.annotation)) if p.annotation is not empty else p
        for p in sig.parameters.values()
    ][1 if method else 0 :]
    returns = sig.return_annotation
    if inspect.isclass(obj) or returns is empty:
        sig = sig.replace(parameters=params, return_annotation=empty)
    else:
        sig = sig.replace(parameters=params, return_annotation=_Annotation(returns))
    return re.sub(r" at 0x[0-9a-f]+", "", str(sig))


def own_doc(obj: Any) -> str:
    """`obj`'s own docstring, never one inherited or the one `dataclass` makes up."""
    doc = obj.__doc__ if isinstance(obj, property | types.ModuleType) else None
    if doc is None:
        doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(") and doc.endswith(")"):
        return ""  # dataclasses.dataclass's stand-in: the signature again
    return inspect.cleandoc(doc)


def wrapped(line: str, width: int = 88) -> str:
    """A signature longer than `width`, one parameter a line (splitting at the commas
    between parameters, not those inside brackets)."""
    head, paren, rest = line.partition("(")
    if len(line) <= width or not paren:
        return line
    params, depth, start = [], 0, 0
    for i, char in enumerate(rest):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                params.append(rest[start:i].strip())
                return f"{head}(\n" + "".join(f"    {p},\n" for p in params) + rest[i:]
        elif char == "," and depth == 0:
            params.append(rest[start:i].strip())
            start = i + 1
    return line


def first_paragraph(obj: Any) -> str:
    doc = own_doc(obj)
    return " ".join(doc.split("\n\n")[0].split()) or UNDOCUMENTED


def attribute_docs(source: str) -> dict[str, str]:
    """`NAME = value` followed by a string literal: the literal, by name."""
    docs: dict[str, str] = {}
    body = ast.parse(source).body
    for node, after in itertools.pairwise(body):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = after.value if isinstance(after, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for target in targets:
                if isinstance(target, ast.Name):
                    docs[target.id] = inspect.cleandoc(value.value)
    return docs


def imported_from(source: str) -> dict[str, tuple[str, str]]:
    """`from MODULE import NAME [as BOUND]` anywhere in `source` (under
    `if TYPE_CHECKING:` too): `(MODULE, NAME)`, by the name it is bound to."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found[alias.asname or alias.name] = (node.module, alias.name)
    return found


def origin_attribute_doc(module_name: str, name: str) -> str | None:
    """The string literal after `name = ...` in the source of `module_name`, where a
    value the API re-exports is defined (its docstring cannot travel with it)."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return attribute_docs(Path(spec.origin).read_text()).get(name)


def _members(owner: Any) -> list[tuple[str, Any, bool]]:
    """`(name, object, is a method)` for a module's public functions and classes
    defined there (or its `__all__`), or a class's own public methods and properties;
    in definition order, which is a namespace's order."""
    if isinstance(owner, types.ModuleType):
        names = getattr(owner, "__all__", None) or [
            n for n, v in vars(owner).items()
            if (inspect.isfunction(v) or inspect.isclass(v)) and v.__module__ == owner.__name__
        ]  # fmt: skip
        return [(n, getattr(owner, n), False) for n in names if not n.startswith("_")]
    found = []
    for n, raw in vars(owner).items():
        if n.startswith("_") or not (callable(raw) or isinstance(raw, property | classmethod)):
            continue
        value = raw.__func__ if isinstance(raw, staticmethod) else getattr(owner, n)
        if isinstance(raw, property):
            value = raw
        found.append((n, value, inspect.isfunction(raw)))
    return found


def _member_line(prefix: str, name: str, value: Any, method: bool) -> str:
    if isinstance(value, property):
        return f"* `{prefix}{name}` (property): {first_paragraph(value)}"
    shown = "class " if inspect.isclass(value) else ""
    return f"* `{shown}{prefix}{name}{signature(value, method)}`: {first_paragraph(value)}"


def render_api_name(name: str, value: Any, attribute_doc: str | None) -> str:
    if isinstance(value, types.ModuleType):
        doc = first_paragraph(value)
        lines = [_member_line(f"{name}.", n, v, m) for n, v, m in _members(value)]
        return f"### `{name}` (module)\n\n{doc}\n\n" + "\n".join(lines) + "\n"
    if inspect.isclass(value) or callable(value):
        shown = f"class {name}" if inspect.isclass(value) else name
        text = f"### `{name}`\n\n```python\n{wrapped(shown + signature(value))}\n```\n\n"
        text += (own_doc(value) or UNDOCUMENTED) + "\n"
        if inspect.isclass(value):
            methods = [_member_line(f"{name}.", n, v, m) for n, v, m in _members(value)]
            text += "\n" + "\n".join(methods) + "\n" if methods else ""
        return text
    shown = re.sub(r" at 0x[0-9a-f]+", "", repr(value))
    doc = attribute_doc or UNDOCUMENTED
    return f"### `{name}`\n\n```python\n{name} = {shown}\n```\n\n{doc}\n"


def render_api(module: types.ModuleType | None) -> str:
    if module is None:
        return API_PLACEHOLDER + "\n"
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):  # a module built in memory, as in the tests
        source = ""
    attribute_doc = attribute_docs(source) if source else {}
    origins = imported_from(source) if source else {}
    names = list(getattr(module, "__all__", []))
    parts = [
        f"`{module.__name__}` exports {len(names)} names, in the order of its `__all__`."
        " Everything else in `appliance/` is private and may change.\n"
    ]
    for name in names:
        value = getattr(module, name)
        doc = attribute_doc.get(name)
        plain = not (isinstance(value, types.ModuleType) or callable(value))
        if doc is None and plain and name in origins:
            doc = origin_attribute_doc(*origins[name])
        parts.append(render_api_name(name, value, doc))
    return "\n".join(parts)


def load_api(name: str = API_MODULE) -> types.ModuleType | None:
    """The public API module, or None while it does not exist (an error in it raises)."""
    if str(TOP) not in sys.path:
        sys.path.insert(0, str(TOP))
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


# --- the document ------------------------------------------------------------------------


def replace_block(text: str, marker: str, body: str) -> str:
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"docs/plugins.md needs one '{begin}' line and, after it, one '{end}'")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n\n{body.strip()}\n\n{end}{tail}"


def generate(text: str, specs: list[HookSpec], api: types.ModuleType | None) -> str:
    """`text` (docs/plugins.md) with both generated blocks made anew."""
    text = replace_block(text, "hooks", render_hooks(specs))
    return replace_block(text, "api", render_api(api))


def expected(docs: Path | None = None) -> str:
    """What docs/plugins.md should say; raises ValueError listing broken hookspecs."""
    specs = read_hookspecs()
    broken = problems(specs)
    if broken:
        raise ValueError("appliance/hookspecs: " + "; ".join(broken))
    return generate((docs or DOCS).read_text(), specs, load_api())


def summary(old: str, new: str) -> str:
    """One line: how many lines differ, from where."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not changes:
        return "docs/plugins.md is up to date"
    removed = sum(i2 - i1 for _, i1, i2, _, _ in changes)
    added = sum(j2 - j1 for _, _, _, j1, j2 in changes)
    return (
        f"docs/plugins.md is out of date from line {changes[0][1] + 1} (-{removed}/+{added}"
        " lines); run: python scripts/plugin-docs.py"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    ns = parser.parse_args(argv)
    try:
        new = expected()
    except ValueError as exc:
        print(f"plugin-docs: {exc}", file=sys.stderr)
        return 2
    old = DOCS.read_text()
    if ns.check:
        print(summary(old, new), file=sys.stdout if old == new else sys.stderr)
        return 0 if old == new else 1
    if old != new:
        DOCS.write_text(new)
    print(summary(old, new) if old == new else "docs/plugins.md rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
