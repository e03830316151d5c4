"""The one-time message after a form says it in the language of the page that shows it: the cookie
carries the English msgid and its values, and `read_flash` translates when the page is read. A
plain string still works; a forged or old cookie is ignored, not an error."""

from __future__ import annotations

import ast
import base64
import json
import re
from pathlib import Path

import pytest
from starlette.requests import Request

from tests.fixtures.dashboard import Desk, Person
from tgadmin.models.enums import OperatorRole
from tgadmin.payment.actions import MESSAGES
from tgadmin.webkit.flash import FLASH_COOKIE, Flash, read_flash, redirect_with
from tgadmin.webkit.i18n import LANG_COOKIE, portuguese

Staff = dict[OperatorRole | None, Person]
SOURCE = Path(__file__).resolve().parents[2] / "tgadmin"
# Where a Flash's text is a variable: the class itself, and payment's MESSAGES (checked by value).
SAID_ELSEWHERE = {"webkit/flash.py", "payment/actions.py"}


def page_request(cookie: str | None, lang: str | None = None) -> Request:
    jar = {FLASH_COOKIE: cookie} if cookie is not None else {}
    if lang:
        jar[LANG_COOKIE] = lang
    header = "; ".join(f"{name}={value}" for name, value in jar.items())
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"cookie", header.encode())]})


def cookie_of(message: Flash | str, **kw: bool) -> str:
    response = redirect_with("/groups", message, ok=kw.get("ok", True), wait=kw.get("wait", False))
    set_cookie = response.headers["set-cookie"]
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def forged(note: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(note).encode()).decode("ascii")


def test_a_flash_is_translated_when_read_in_the_language_of_the_page() -> None:
    cookie = cookie_of(Flash("%(title)s: active, cooldown %(seconds)s s", title="VIP", seconds=30), wait=True)
    assert read_flash(page_request(cookie)) == {
        "ok": True,
        "wait": True,
        "message": "VIP: ativo, intervalo de 30 s",
    }
    english = read_flash(page_request(cookie, "en"))
    assert english is not None and english["message"] == "VIP: active, cooldown 30 s"


def test_a_phrase_given_as_a_value_is_translated_too_and_plain_values_are_not() -> None:
    said = Flash(
        "Transaction #%(id)s: %(what)s", id=7, what=Flash("refunded: the money went back to the buyer")
    )
    shown = read_flash(page_request(cookie_of(said, ok=False)))
    assert shown == {
        "ok": False,
        "wait": False,
        "message": "Transação #7: reembolsada: o dinheiro voltou ao comprador",
    }
    refusal = Flash("Transaction #%(id)s: %(what)s", id=7, what="saved")  # a refusal's English, as given
    assert read_flash(page_request(cookie_of(refusal))) == {
        "ok": True,
        "wait": False,
        "message": "Transação #7: saved",
    }


def test_a_plain_string_is_shown_as_written() -> None:
    shown = read_flash(page_request(cookie_of("saved: 100% done")))
    assert shown is not None and shown["message"] == "saved: 100% done" and shown["ok"] is True


@pytest.mark.parametrize(
    "cookie",
    [
        "not base64 at all!",
        forged(["a list"]),
        forged({"ok": True, "message": 12}),
        forged({"ok": True, "message": "%(x)s", "params": {}}),  # a placeholder without its value
        forged({"ok": True, "message": "%(x)s", "params": []}),
        forged({"ok": True, "message": "%(x)s", "params": {"x": [1, 2]}}),
        forged({"ok": True, "message": "%(x)s", "params": {"x": True}}),
        forged({"ok": True, "message": "%(x)s", "params": {"x": None}}),
        forged({"ok": True, "message": "100% sure", "params": {}}),  # a stray %
        forged({"ok": True, "message": "%s", "params": {"x": 1}}),
        forged({"ok": True, "message": "%(x)s", "params": {"x": {"message": "no params"}}}),
        forged(
            {
                "ok": True,
                "message": "%(x)s",
                "params": {
                    "x": {"message": "%(y)s", "params": {"y": {"message": "%(z)s", "params": {"z": {}}}}}
                },
            }
        ),
    ],
)
def test_a_forged_or_broken_cookie_is_ignored(cookie: str) -> None:
    assert read_flash(page_request(cookie)) is None


def test_an_old_cookie_without_values_still_reads() -> None:
    old = forged({"ok": False, "message": "the token 'x' is revoked", "wait": False})
    assert read_flash(page_request(old)) == {
        "ok": False,
        "message": "the token 'x' is revoked",
        "wait": False,
    }


async def test_a_page_action_says_it_in_portuguese_by_default_and_in_english_by_choice(
    desk: Desk, staff: Staff
) -> None:
    admin = staff[OperatorRole.ADMIN]
    admin.http.cookies.set(LANG_COOKIE, "pt")
    done = await admin.submit("/settings/payment-methods", pix="1", stars="1")
    assert done.status_code == 303
    shown = (await admin.http.get("/settings")).text
    assert '<div class="notice" role="status">a loja oferece PIX e Stars</div>' in shown
    admin.http.cookies.set(LANG_COOKIE, "en")
    await admin.submit("/settings/payment-methods", stars="1")
    shown = (await admin.http.get("/settings")).text
    assert '<div class="notice" role="status">the storefront offers Stars</div>' in shown
    # The language is the reading page's, not the one of the form that was posted.
    await admin.submit("/settings/payment-methods", pix="1")
    admin.http.cookies.set(LANG_COOKIE, "pt")
    shown = (await admin.http.get("/settings")).text
    assert '<div class="notice" role="status">a loja oferece PIX</div>' in shown
    # A refusal's reason stays as the service said it (English), inside the translated frame.
    await admin.submit("/settings/payment-methods")
    assert "offer at least one payment method" in (await admin.http.get("/settings")).text


def _texts(node: ast.expr | None, named: dict[str, list[ast.expr]]) -> list[str]:
    """The msgids a Flash's first argument may be: a literal, either side of `a if c else b`, or a
    name bound to those in the same module."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _texts(node.body, named) + _texts(node.orelse, named)
    if isinstance(node, ast.Name):
        return [text for value in named.get(node.id, []) for text in _texts(value, named)]
    return []


def flash_texts(tree: ast.AST) -> tuple[list[str], list[int]]:
    named: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    named.setdefault(target.id, []).append(node.value)
    texts: list[str] = []
    unknown: list[int] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Flash"
            and node.args
        ):
            found = _texts(node.args[0], named)
            texts += found
            if not found:
                unknown.append(node.lineno)
    return texts, unknown


def test_every_flash_of_ours_has_its_portuguese() -> None:
    wanted: set[str] = set(MESSAGES.values())
    unread: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        texts, unknown = flash_texts(ast.parse(path.read_text(), str(path)))
        wanted.update(texts)
        where = path.relative_to(SOURCE).as_posix()
        unread += [f"{where}:{line}" for line in unknown if where not in SAID_ELSEWHERE]
    # A text that is only a placeholder has no words to translate.
    wanted = {text for text in wanted if re.sub(r"%\(\w+\)s", "", text).strip(" ()")}
    assert len(wanted) > 50
    assert sorted(wanted - set(portuguese())) == []
    assert unread == []  # a Flash whose text this test cannot see
