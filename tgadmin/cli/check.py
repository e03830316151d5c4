from __future__ import annotations

from tgadmin.cli.common import handle_errors
from tgadmin.errors import TgadminError


@handle_errors
def run() -> None:
    raise TgadminError("being built in the foundation issue (#2)")
