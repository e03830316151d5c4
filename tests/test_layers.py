"""The three floors of tgadmin/, read from the source with `ast`: imports only run down.

- top (`web bot worker cli dev`, `__main__.py`) wires the domains in; nothing below imports it (the
  top floor may start its own parts: `cli` runs `web`, `bot`, `worker`, `dev`);
- toolkits know no domain;
- a domain uses another domain only through its doors (`service`, `schemas`, `texts`, `auth`,
  `events`, `enqueue`), never its `repository` or `jobs`;
- and no two packages import each other, directly or round a longer loop.

Every package that is neither top nor toolkit is a domain, so a new one is covered unlisted. Imports
inside functions and under `TYPE_CHECKING` count: a lazy import still knows its target.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = frozenset({"web", "bot", "worker", "cli", "dev", "__main__"})
TOOLKITS = frozenset(
    {"telegram", "queue", "pix", "models", "webkit", "sandbox"}
    | {"db", "config", "redis", "storage", "crypto", "clock", "errors", "logs", "i18n", "mail"}
    | {"ratelimit", "migrate", "connections", "metrics", "heap"}
)
# `enqueue`: the jobs a domain asks for after a commit (purchase/enqueue.py: delivery, end of access).
DOORS = frozenset({"service", "schemas", "texts", "auth", "events", "enqueue"})
RULES = ("top floor", "toolkit", "domain door", "cycle")


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    target: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line} imports {self.target}"


def unit(module: str) -> str:
    """The package (or top-level module) a `tgadmin.` module belongs to: `tgadmin.group.service` -> group."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def floor(name: str) -> str:
    return "top" if name in TOP else "toolkit" if name in TOOLKITS else "domain"


def module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: str, source: str, known: frozenset[str]) -> Iterator[Import]:
    """The `tgadmin.` modules `path` imports; `from a import b` names the module a.b when b is one."""
    here = module_name(path)
    package = here if path.endswith("__init__.py") else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "tgadmin" or target.startswith("tgadmin."):
                yield Import(path, node.lineno, target)


def layer_problem(edge: Import) -> tuple[str, str] | None:
    """Which rule one import breaks, and how, or None."""
    source, target = unit(module_name(edge.file)), unit(edge.target)
    if source == target or not target:
        return None
    if floor(target) == "top" and floor(source) != "top":
        return "top floor", f"{edge.where}: `{target}` is top floor, imported by nothing below it"
    if floor(source) == "toolkit" and floor(target) == "domain":
        return "toolkit", f"{edge.where}: the toolkit `{source}` must know no domain (`{target}`)"
    if floor(source) == "domain" and floor(target) == "domain":
        door = edge.target.split(".")[2] if edge.target.count(".") >= 2 else "__init__"
        if door not in DOORS:
            doors = ", ".join(sorted(DOORS))
            return "domain door", f"{edge.where}: another domain uses `{target}` only through its {doors}"
    return None


def cycles(edges: list[Import]) -> list[str]:
    """Package loops found by a depth-first walk, each edge named by one import that makes it."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in edges:
        source, target = unit(module_name(edge.file)), unit(edge.target)
        if source != target and target:
            graph.setdefault(source, {}).setdefault(target, edge)
    found: list[str] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, {})):
            if nxt in path:
                loop = [*path[path.index(nxt) :], nxt]
                steps = "; ".join(graph[a][b].where for a, b in pairwise(loop))
                found.append(f"cycle {' -> '.join(loop)}: {steps}")
            elif nxt not in done:
                visit(nxt, [*path, nxt])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return found


def check(sources: Mapping[str, str]) -> dict[str, list[str]]:
    """Every broken rule, by rule, for `sources`: {"tgadmin/x/y.py": its text}."""
    known = frozenset(module_name(path) for path in sources)
    edges = sorted(
        (edge for path, text in sources.items() for edge in imports(path, text, known)),
        key=lambda edge: (edge.file, edge.line, edge.target),
    )
    problems: dict[str, list[str]] = {rule: [] for rule in RULES}
    for edge in edges:
        if (problem := layer_problem(edge)) is not None:
            problems[problem[0]].append(problem[1])
    problems["cycle"] = cycles(edges)
    return problems


def tree() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "tgadmin").rglob("*.py"))
    }


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    return check(tree())


@pytest.mark.parametrize("rule", RULES)
def test_imports_only_run_down_the_floors(problems: dict[str, list[str]], rule: str) -> None:
    assert problems[rule] == [], "\n".join(problems[rule])


def test_the_listed_top_floor_and_toolkits_exist() -> None:
    # A renamed toolkit would otherwise count as a domain, and the rules for it would loosen.
    names = {unit(module_name(path)) for path in tree()} - {""}
    assert names >= TOP | TOOLKITS, f"listed but gone: {sorted((TOP | TOOLKITS) - names)}"


def test_the_checker_reports_what_it_must_and_nothing_else() -> None:
    sources = {
        "tgadmin/__init__.py": "",
        "tgadmin/config.py": "",
        "tgadmin/db.py": "import tgadmin.config\n",
        "tgadmin/mail.py": "from tgadmin.cli.main import app\n",
        "tgadmin/telegram/__init__.py": "",
        # A lazy import inside a function is still an import.
        "tgadmin/telegram/gateway.py": "import tgadmin.db\n\ndef f():\n    import tgadmin.group.service\n",
        "tgadmin/group/__init__.py": "",
        "tgadmin/group/service.py": "from tgadmin.payment.service import pay\nfrom tgadmin import config\n",
        "tgadmin/group/repository.py": "",
        "tgadmin/payment/__init__.py": "",
        "tgadmin/payment/service.py": "from . import repository\nfrom ..group import repository as g\n",
        "tgadmin/payment/repository.py": "",
        "tgadmin/cli/__init__.py": "",
        "tgadmin/cli/main.py": "from tgadmin.web import app\nfrom tgadmin.group import service\n",
        "tgadmin/web/__init__.py": "",
        "tgadmin/web/app.py": "from tgadmin.group.service import x\nfrom tgadmin.telegram import gateway\n",
    }
    assert check(sources) == {
        "top floor": [
            "tgadmin/mail.py:1 imports tgadmin.cli.main: `cli` is top floor, imported by nothing below it"
        ],
        "toolkit": [
            "tgadmin/telegram/gateway.py:4 imports tgadmin.group.service:"
            " the toolkit `telegram` must know no domain (`group`)"
        ],
        "domain door": [
            "tgadmin/payment/service.py:2 imports tgadmin.group.repository:"
            " another domain uses `group` only through its auth, enqueue, events, schemas, service, texts"
        ],
        "cycle": [
            "cycle group -> payment -> group: tgadmin/group/service.py:1 imports tgadmin.payment.service;"
            " tgadmin/payment/service.py:2 imports tgadmin.group.repository"
        ],
    }
