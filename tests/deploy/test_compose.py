"""deploy/: compose.yaml, the Procfile and .env.example say only what tgadmin understands: every
command is a `tgadmin` command with options it has, every setting passed is one of config.py, and
.env.example lists every setting with a comment."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from tgadmin.cli.main import app
from tgadmin.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Read by compose.yaml itself (the postgres service's password), never by tgadmin.
COMPOSE_ONLY = frozenset({"POSTGRES_PASSWORD"})
SETTINGS = frozenset(name.upper() for name in Settings.model_fields)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def command_problem(argv: list[str]) -> str | None:
    """Why `argv` is not a tgadmin command line, in one sentence; None when it is one."""
    said = " ".join(argv)
    if not argv or argv[0] != "tgadmin":
        return f"`{said}`: not a tgadmin command"
    # Typer's own click: a group is what has sub-`commands`.
    command: Any = typer.main.get_command(app)
    words = argv[1:]
    while getattr(command, "commands", None) is not None and words:
        found = command.commands.get(words[0])
        if found is None:
            known = ", ".join(command.commands)
            return f"`{said}`: `{words[0]}` is no command of `tgadmin --help` ({known})"
        command, words = found, words[1:]
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words:
        if word.startswith("--") and word.split("=", 1)[0] not in options:
            known = ", ".join(sorted(options))
            return f"`{said}`: `{word}` is no option of `tgadmin {command.name}` ({known})"
    return None


def setting_problems(where: str, names: list[str]) -> list[str]:
    return [
        f"{where} sets {name}, which is no setting of tgadmin (tgadmin/config.py)"
        for name in names
        if name not in SETTINGS and name not in COMPOSE_ONLY
    ]


def tgadmin_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in spec["services"].items()
        if (service.get("command") or [None])[0] == "tgadmin"
    }


def compose_problems(spec: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, service in tgadmin_services(spec).items():
        problem = command_problem([str(word) for word in service["command"]])
        if problem:
            problems.append(f"service {name}: {problem}")
        problems += setting_problems(f"service {name}", list(service.get("environment") or {}))
    return problems


def test_every_compose_command_and_setting_is_tgadmins() -> None:
    spec = compose()
    assert compose_problems(spec) == []
    commands = {name: service["command"][:2] for name, service in tgadmin_services(spec).items()}
    # The production layout of the issue: migrations one-shot, dashboard, bot in webhook mode, workers.
    assert commands["migrate"] == ["tgadmin", "db"] and commands["dashboard"][1] == "dashboard"
    assert commands["bot"] == ["tgadmin", "bot"] and "--polling" not in spec["services"]["bot"]["command"]
    assert "--metrics-port" in spec["services"]["worker"]["command"]
    assert {"postgres", "redis", "s3"} <= set(spec["services"])
    # The send ledger and the queues survive a restart of Redis only with its append-only file.
    assert "--appendonly" in spec["services"]["redis"]["command"]


def test_the_checks_name_a_wrong_command_option_or_setting() -> None:
    spec = compose()
    spec["services"]["worker"]["command"] = ["tgadmin", "wroker"]
    spec["services"]["bot"]["command"] = ["tgadmin", "bot", "--webhook"]
    spec["services"]["dashboard"]["environment"] = {"DATABASE_URL": "x", "WORKERS_COUNT": "3"}
    problems = compose_problems(spec)
    assert problems[0].startswith("service dashboard sets WORKERS_COUNT, which is no setting")
    assert any("service bot: `tgadmin bot --webhook`: `--webhook` is no option" in p for p in problems)
    wrong_command = "service worker: `tgadmin wroker`: `wroker` is no command of `tgadmin --help`"
    assert any(p.startswith(wrong_command) for p in problems)


def test_every_command_is_listed_by_tgadmin_help() -> None:
    shown = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    for service in tgadmin_services(compose()).values():
        # A line of the commands box: "│ db   Database schema (Alembic migrations). │".
        assert re.search(rf"^│ +{service['command'][1]} ", shown, re.M), service["command"]


def procfile() -> dict[str, list[list[str]]]:
    """Process type -> its command lines (`a && b` is two), with `${VAR:-default}` as the default."""
    found: dict[str, list[list[str]]] = {}
    for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, command = line.partition(":")
        command = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command)
        found[kind] = [shlex.split(part) for part in command.split("&&")]
    return found


def test_every_procfile_line_is_a_tgadmin_command() -> None:
    lines = procfile()
    assert set(lines) == {"release", "web", "bot", "worker"}
    problems = [p for commands in lines.values() for c in commands if (p := command_problem(c))]
    assert problems == []


@pytest.fixture
def env_example() -> str:
    return (DEPLOY / ".env.example").read_text(encoding="utf-8")


def test_env_example_lists_every_setting_each_with_a_comment(env_example: str) -> None:
    lines = env_example.splitlines()
    listed: dict[str, int] = {}
    for number, line in enumerate(lines):
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]+)=", line)
        if match:
            listed[match.group(1)] = number
    assert setting_problems(".env.example", list(listed)) == []
    assert sorted(SETTINGS - set(listed)) == [], "settings missing from deploy/.env.example"
    for name, number in listed.items():
        above = lines[number - 1]
        assert above.startswith("# ") and not re.match(r"^# ?[A-Z][A-Z0-9_]+=", above), (
            f"{name} has no comment of its own"
        )
