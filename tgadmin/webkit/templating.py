"""Jinja2 templates of the dashboard (every asset served by us: no page loads anything from the
internet), with the page's language (`_`, `money`, `when`: webkit/i18n.py) and the vendored
front-end libraries (`vendor_url`: webkit/assets.py) at hand in every template."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from tgadmin.webkit import i18n
from tgadmin.webkit.assets import vendor_url

templates = Jinja2Templates(
    directory=str(Path(__file__).resolve().parents[1] / "templates"),
    context_processors=[i18n.page_context],
)
templates.env.add_extension("jinja2.ext.i18n")
# i18n's callables are Jinja's newstyle ones already (one call per text instead of a wrapper calling
# a function through the context again: a page asks for hundreds of texts).
templates.env.newstyle_gettext = True  # type: ignore[attr-defined]  # read by the i18n extension
templates.env.globals.update(
    _=i18n.gettext,
    gettext=i18n.gettext,
    ngettext=i18n.ngettext,
    pgettext=i18n.pgettext,
    money=i18n.money,
    when=i18n.when,
    vendor_url=vendor_url,
)
