"""The domain layer speaks the domain: no HTTP in hub/services or hub/services/devices, one unit of work per
command, one Scope rule (docs/domain.md)."""

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


# Front ends over the services: none of them reaches the services through another front end's adapter
# (the console once called REST route functions, and so answered with REST's shapes and validation).
FRONT_ENDS = (ROOT / "hub" / "console", ROOT / "hub" / "line")
REST_ROUTES = "hub.api.routes"


def _front_end_modules() -> list[Path]:
    return sorted(p for package in FRONT_ENDS for p in package.rglob("*.py"))


def _absolute(module: str | None, level: int, path: Path) -> str:
    """The module a `from ... import` names, with a relative one resolved from `path`'s package."""
    if level == 0:
        return module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts)
    package = package if path.name == "__init__.py" else package[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _rest_route_imports(tree: ast.AST, path: Path) -> set[str]:
    """Every import that reaches hub.api.routes: `import hub.api.routes.x`, `from hub.api.routes(.x)
    import y`, `from hub.api import routes`, and the same written relatively."""

    def is_routes(name: str) -> bool:
        return name == REST_ROUTES or name.startswith(REST_ROUTES + ".")

    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if is_routes(a.name))
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node.module, node.level, path)
            named = (f"{module}.{a.name}" for a in node.names)
            found.update(name for name in named if is_routes(name))
    return found


def test_the_front_ends_have_modules():
    assert len([p for p in _front_end_modules() if p.parent.name == "console"]) >= 10
    assert len([p for p in _front_end_modules() if p.parent.name == "line"]) >= 10


@pytest.mark.parametrize("path", _front_end_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_front_ends_call_the_services_not_the_rest_routes(path: Path):
    found = _rest_route_imports(ast.parse(path.read_text(encoding="utf-8")), path)
    assert not found, f"imports REST route modules {found}"


def test_the_route_import_checker_sees_what_it_must():
    """The check above catches each way of reaching hub.api.routes, and lets the neutral helpers be."""
    page = ROOT / "hub" / "console" / "pages_sample.py"
    reaching = [
        "from hub.api.routes import passes as pass_routes\n",
        "from hub.api.routes.venues import VenueApplication\n",
        "import hub.api.routes.devices\n",
        "from hub.api import routes\n",
        "from ..api.routes import queries\n",
        "from ..api import routes\n",
    ]
    for source in reaching:
        assert _rest_route_imports(ast.parse(source), page), source
    for source in ("from hub.web import client_ip\n", "from hub.services import passes\n"):
        assert not _rest_route_imports(ast.parse(source), page), source


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
