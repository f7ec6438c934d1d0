"""The domain layer speaks the domain: no HTTP in hub/services (nor, transitively, anything it loads),
one unit of work per command, one Scope rule (docs/domain.md); the front ends side by side over it, no
import circles (docs/where-things-go.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from hub.models.identity import Role, User
from hub.services.errors import DomainError, NotAllowed, Rejected
from hub.services.scope import Scope

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PACKAGES = (ROOT / "hub" / "services",)

HTTP_WORDS = re.compile(r"status_code|HTTP_\w+|HTTPException|\bhub\.errors\b|\bHubError\b")


def _domain_modules() -> list[Path]:
    return sorted(p for package in DOMAIN_PACKAGES for p in package.rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _code_numbers(tree: ast.AST) -> list[int]:
    """Numbers that look like HTTP statuses, except a named module constant (`ID_CHUNK = 500` is a
    quantity with a name, not a status)."""
    named = {
        id(node.value)
        for node in getattr(tree, "body", [])
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper()
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and type(n.value) is int
        and 400 <= n.value <= 599
        and id(n) not in named
    ]


def test_the_domain_packages_have_modules():
    assert len(_domain_modules()) >= 15  # the scan below sees the real tree


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_http_in_the_domain_layer(path: Path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    web = {m for m in _imports(tree) if m.split(".")[0] in ("fastapi", "starlette")}
    assert not web, f"imports {web}"
    assert not HTTP_WORDS.findall(source), HTTP_WORDS.findall(source)
    assert not _code_numbers(tree), f"HTTP-status-like numbers {_code_numbers(tree)}"


def test_the_http_checker_sees_what_it_must(tmp_path: Path):
    """The checks above catch each kind of leak (they are not vacuous)."""
    samples = {
        "from fastapi import Request\n": "import",
        "raise HubError(403, 'forbidden')\n": "words",
        "if response.status_code == 404: pass\n": "words",
        "x = {409: 'conflict'}\n": "number",
    }
    for source, kind in samples.items():
        tree = ast.parse(source)
        found = (
            bool({m for m in _imports(tree) if m.split(".")[0] in ("fastapi", "starlette")})
            or bool(HTTP_WORDS.findall(source))
            or bool(_code_numbers(tree))
        )
        assert found, (kind, source)


# The three front ends stand side by side over the services (docs/where-things-go.md): none of them
# imports another (the console once called REST route functions, and so answered with REST's shapes and
# validation; it and LINE took the client's address from REST). What they share that is web plumbing (the
# request's session, the client's address) is in hub/web.py, which none of them owns.
FRONT_ENDS = {
    "hub.api": ROOT / "hub" / "api",
    "hub.console": ROOT / "hub" / "console",
    "hub.line": ROOT / "hub" / "line",
}


def _front_end_modules() -> list[Path]:
    return sorted(p for package in FRONT_ENDS.values() for p in package.rglob("*.py"))


def _absolute(module: str | None, level: int, path: Path) -> str:
    """The module a `from ... import` names, with a relative one resolved from `path`'s package."""
    if level == 0:
        return module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts)
    package = package if path.name == "__init__.py" else package[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _front_end_of(name: str) -> str | None:
    return next((f for f in FRONT_ENDS if name == f or name.startswith(f + ".")), None)


def _sibling_imports(tree: ast.AST, path: Path) -> set[str]:
    """Every import (at any depth of the module) that reaches a front end other than `path`'s own:
    `import hub.api.x`, `from hub.api(.x) import y`, `from hub import api`, and the same written
    relatively."""
    own = _front_end_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, path)
            names = [module] + [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        found.update(n for n in names if _front_end_of(n) not in (None, own))
    return found


def test_the_front_ends_have_modules():
    for package in FRONT_ENDS.values():
        assert len([p for p in _front_end_modules() if package in p.parents]) >= 10, package


@pytest.mark.parametrize("path", _front_end_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_front_ends_import_the_services_never_each_other(path: Path):
    found = _sibling_imports(ast.parse(path.read_text(encoding="utf-8")), path)
    assert not found, f"imports another front end: {found}"


def test_the_sibling_import_checker_sees_what_it_must():
    """The check above catches each way of reaching another front end, and lets the shared modules be."""
    page = ROOT / "hub" / "console" / "pages_sample.py"
    reaching = [
        "from hub.api.routes import passes as pass_routes\n",
        "from hub.api.routes.venues import VenueApplication\n",
        "import hub.api.routes.devices\n",
        "from hub.api import routes\n",
        "from hub import line\n",
        "from ..api.routes import queries\n",
        "from ..line import support\n",
        "def f():\n    from hub.api.deps import client_ip\n",
    ]
    for source in reaching:
        assert _sibling_imports(ast.parse(source), page), source
    for source in (
        "from hub.web import client_ip\n",
        "from hub.services import passes\n",
        "from hub.console.web import Page\n",
        "from . import web\n",
    ):
        assert not _sibling_imports(ast.parse(source), page), source
    assert _sibling_imports(ast.parse("from hub.console import web\n"), ROOT / "hub" / "line" / "x.py")


# Transitively, not file by file: what a fresh interpreter has loaded after importing a module. A service
# that imports a helper that imports FastAPI loads FastAPI all the same.
WEB_AND_FRONT_ENDS = ("fastapi", "starlette", "hub.api", "hub.line", "hub.console", "hub.web", "hub.main")
DOMAIN_ROOTS = ("hub.services", "hub.models", "hub.db", "hub.context", "hub.core")

_LOADED_BY_EACH = """
import importlib, json, pkgutil, sys
roots, banned = json.loads(sys.argv[1]), tuple(json.loads(sys.argv[2]))
def names(root):
    module = importlib.import_module(root)
    yield root
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), root + "."):
        yield info.name
def bad():
    return {m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in banned)}
found, seen = {}, set()
for root in roots:
    for name in names(root):
        importlib.import_module(name)
        new = bad() - seen
        if new:
            found[name] = sorted(new)
            seen |= new
print(json.dumps(found))
"""


def _loaded_by(roots: tuple[str, ...], banned: tuple[str, ...]) -> dict[str, list[str]]:
    """{module: the banned modules that importing it (first) loaded}, in a fresh interpreter."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_EACH, json.dumps(roots), json.dumps(banned)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_domain_loads_no_web_framework_and_no_front_end():
    """Importing any service, model, hub.db, hub.context or hub.core module loads no FastAPI, no
    Starlette, no front end and not the shared web plumbing."""
    assert _loaded_by(DOMAIN_ROOTS, WEB_AND_FRONT_ENDS) == {}


def test_the_database_and_the_tables_load_no_service():
    assert _loaded_by(("hub.db", "hub.models"), ("hub.services",) + WEB_AND_FRONT_ENDS) == {}


def test_the_transitive_check_sees_what_it_must():
    """A front end does load the web framework: the check would see a service that did."""
    found = _loaded_by(("hub.api.deps",), WEB_AND_FRONT_ENDS)
    assert "fastapi" in found["hub.api.deps"] and "hub.web" in found["hub.api.deps"]


def test_every_table_lives_in_hub_models():
    """Every mapped class is defined under hub/models/, and importing hub.models alone registers every
    table the running hub has (what Alembic's autogenerate sees: hub/alembic/env.py)."""
    import json
    import subprocess
    import sys

    import hub.main  # noqa: F401  (every front end, so every model anyone defines)
    from hub.db import Base

    outside = [
        m.class_.__module__ for m in Base.registry.mappers if not m.class_.__module__.startswith("hub.models")
    ]
    assert outside == []
    alone = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, hub.models; from hub.db import Base; "
            "print(json.dumps(sorted(Base.metadata.tables)))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(alone.stdout) == sorted(Base.metadata.tables)
    assert {"line_bindings", "line_support_messages", "line_inbox", "devices"} <= set(Base.metadata.tables)


# No import circles among the hub's and the checkpoint app's modules. Every import counts, at module
# level or inside a function (an import moved into a function to break a circle is still a circle:
# restructure instead); only `if TYPE_CHECKING:` imports, which never run, do not.
CIRCLE_PACKAGES = ("hub", "checkpoint_app")


def _module_files() -> dict[str, Path]:
    found = {}
    for package in CIRCLE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None) if isinstance(node, ast.If) else None
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    return skipped


def _import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """{module: the modules of `files` it imports}; `from a import b` is the module a.b when that is one."""

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        targets: set[str | None] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(known(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node.module, node.level, path)
                targets.update(
                    known(f"{base}.{a.name}") if f"{base}.{a.name}" in files else known(base)
                    for a in node.names
                )
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_circles():
    files = _module_files()
    assert len(files) > 200  # the scan sees the real tree
    assert _circles(_import_graph(files)) == []


def test_the_circle_finder_sees_what_it_must(tmp_path: Path):
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    files = {"hub.x": tmp_path / "x.py", "hub.y": tmp_path / "y.py"}
    files["hub.x"].write_text("def f():\n    from hub import y\n")  # inside a function: still counts
    files["hub.y"].write_text("from typing import TYPE_CHECKING\nimport hub.x\n")
    assert _circles(_import_graph(files)) == [["hub.x", "hub.y"]]
    files["hub.y"].write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import hub.x\n")
    assert _circles(_import_graph(files)) == []


def _user(role: Role, org_id: int | None = None, permissions: list[str] | None = None) -> User:
    return User(id=1, mobile="+886911000001", role=role.value, org_id=org_id, permissions=permissions or [])


def test_a_scope_without_an_organisation_reaches_nothing():
    scope = Scope.of(_user(Role.STATION_ADMIN, None))
    assert scope.org_ids == frozenset()
    with pytest.raises(NotAllowed) as refused:
        scope.own_org()
    assert refused.value.reason == "no_organisation"
    with pytest.raises(NotAllowed):
        scope.org_filter(None, "query.checks")  # never "no filter", i.e. everything
    assert not scope.member_of(0)


def test_organisation_roles_reach_only_their_own():
    scope = Scope.of(_user(Role.ENTERPRISE_ADMIN, 7))
    assert scope.own_org() == 7 and scope.org_filter(None, "query.passes") == 7
    with pytest.raises(NotAllowed):
        scope.own_org(8)
    with pytest.raises(NotAllowed):
        scope.require_org(8, "enterprises.manage")


def test_hub_admins_reach_everything_only_through_their_permissions():
    general = Scope.of(_user(Role.GENERAL_ADMIN, None, ["query.passes"]))
    assert general.org_filter(None, "query.passes") is None  # every organisation
    assert general.org_filter(5, "query.passes") == 5
    with pytest.raises(NotAllowed):
        general.org_filter(None, "query.checks")
    assert not general.member_of(5)  # hub admins belong to no organisation


def test_a_refusal_keeps_only_the_audit_it_asked_for(app):
    """The unit of work rolls back what a refused command did, then stores its kept audit entries."""
    from sqlalchemy import func, select

    from hub.models.audit import AuditEvent
    from hub.models.organisations import Organisation, OrgKind
    from hub.services.unit_of_work import unit_of_work

    sessions = app.state.sessionmaker
    with pytest.raises(DomainError):
        with unit_of_work(sessions) as db:
            db.add(Organisation(kind=OrgKind.STATION.value, name="不該存在的分局"))
            db.flush()
            raise Rejected("nothing was imported").audited("import.rejected", kind="test", rows=1)
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Organisation)) == 0
        kept = db.scalars(select(AuditEvent).where(AuditEvent.action == "import.rejected")).all()
        assert [e.details for e in kept] == [{"kind": "test", "rows": 1}]


def test_a_command_that_succeeds_is_committed_once_at_its_end(app):
    from sqlalchemy import func, select

    from hub.models.organisations import Organisation, OrgKind
    from hub.services.unit_of_work import unit_of_work

    sessions = app.state.sessionmaker
    with unit_of_work(sessions) as db:
        db.add(Organisation(kind=OrgKind.STATION.value, name="板橋分局"))
        db.flush()
        with sessions() as other:  # not visible to anyone else before the end
            assert other.scalar(select(func.count()).select_from(Organisation)) == 0
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Organisation)) == 1


def test_times_for_people_are_in_taipei_and_say_so():
    import datetime as dt

    from hub.core.clock import as_utc, require_aware, taipei_label

    assert taipei_label(0) == "1970-01-01 08:00 (UTC+8)"
    assert taipei_label(dt.datetime(2026, 12, 2, 5, 0)) == "2026-12-02 13:00 (UTC+8)"  # naive = UTC
    assert as_utc("2026-12-02 05:00:00").tzinfo is dt.UTC
    with pytest.raises(Rejected) as refused:
        require_aware(dt.datetime(2026, 12, 2), "from")
    assert refused.value.field == "from"


def test_the_cli_maps_each_refusal_once(capsys):
    from hub.cli import _refused, exit_code_of
    from hub.services.errors import Conflict, Invalid, NotFound, Unavailable

    assert exit_code_of(Invalid("bad --valid-days")) == 2  # like a usage error
    assert [
        exit_code_of(e) for e in (Rejected("bad bundle"), NotFound("key"), Conflict(), Unavailable())
    ] == [1] * 4
    assert _refused(Conflict("the served bundle is newer", reason="bundle_not_newer")) == 1
    assert capsys.readouterr().err == "checkpass: bundle_not_newer: the served bundle is newer\n"


# The front ends reach the tables only through the services (docs/where-things-go.md): no module of
# hub/api, hub/console or hub/line imports hub.models or hub.db when it runs, so every query, insert and
# update is in the service that owns the concept. A row class a service hands back may be named in an
# annotation under `if TYPE_CHECKING:` (never imported, so nothing can be queried with it). The one
# runtime import is the session plumbing below.
TABLE_MODULES = ("hub.models", "hub.db")
SESSION_PLUMBING = {
    # REST's `CurrentUser = Annotated[User, Depends(...)]`: FastAPI reads the annotation when it runs
    ("hub.api.deps", "hub.models.identity"),
}


def _of(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == r or name.startswith(r + ".") for r in roots)


def _table_imports(tree: ast.AST, path: Path) -> dict[str, bool]:
    """{table module this file imports: whether it runs (False: only under `if TYPE_CHECKING:`)}."""
    skipped = _type_checking_only(tree)
    found: dict[str, bool] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, path)
            names = [f"{module}.{a.name}" if module == "hub" else module for a in node.names]
        else:
            continue
        for name in (n for n in names if _of(n, TABLE_MODULES)):
            found[name] = found.get(name, False) or id(node) not in skipped
    return found


def _adapter_table_pairs() -> dict[str, dict[tuple[str, str], bool]]:
    """{front end: {(its module, a table module it imports): runs}}: the count issue 16 tracks."""
    pairs: dict[str, dict[tuple[str, str], bool]] = {front_end: {} for front_end in FRONT_ENDS}
    for path in _front_end_modules():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for table, runs in _table_imports(ast.parse(path.read_text(encoding="utf-8")), path).items():
            pairs[_front_end_of(module) or ""][(module, table)] = runs
    return pairs


def test_front_ends_reach_the_tables_only_through_the_services():
    pairs = _adapter_table_pairs()
    assert all(len(modules) >= 1 for modules in pairs.values())  # the scan sees the real imports
    running = {pair for found in pairs.values() for pair, runs in found.items() if runs}
    assert sorted(running - SESSION_PLUMBING) == []
    assert sorted(SESSION_PLUMBING - running) == []  # nothing stale allowed


def test_the_table_import_checker_sees_what_it_must():
    """Each way of importing a table module counts, and runs unless it is under `if TYPE_CHECKING:`."""
    page = ROOT / "hub" / "console" / "pages_sample.py"
    samples = {
        "from hub.models.identity import User\n": {"hub.models.identity": True},
        "import hub.models\n": {"hub.models": True},
        "from hub.db import utcnow\n": {"hub.db": True},
        "from hub import db, web\n": {"hub.db": True},
        "from hub import models\n": {"hub.models": True},
        "from ..models import passes\n": {"hub.models": True},
        "def f():\n    from hub.models.passes import Pass\n": {"hub.models.passes": True},
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hub.models.identity import User\n": {
            "hub.models.identity": False
        },
        "from hub.services import identity\nfrom hub.web import SessionDep\n": {},
        "from hub.core.vocabulary import Role\n": {},
    }
    for source, found in samples.items():
        assert _table_imports(ast.parse(source), page) == found, source
