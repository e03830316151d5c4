"""Every text of the Products pages reads in Portuguese (the dashboard's default language)."""

from __future__ import annotations

import re
from pathlib import Path

from tgadmin.webkit.i18n import portuguese

TEMPLATES = Path(__file__).resolve().parents[2] / "tgadmin" / "templates"
TEXT = re.compile(r"""_\(\s*"([^"]+)"|_\(\s*'([^']+)'""")


def test_every_text_of_the_products_pages_has_its_portuguese() -> None:
    found = {
        double or single
        for page in TEMPLATES.glob("products*.html")
        for double, single in TEXT.findall(page.read_text())
    }
    # Built from a value in the template: the product types, and the list's count (ngettext).
    found |= {"content", "ppv", "subscription", "%(num)s product", "%(num)s products"}
    assert len(found) > 40
    assert sorted(found - set(portuguese())) == []
