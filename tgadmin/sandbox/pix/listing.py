"""The list queries of API Pix (`GET /cob`, `/pix`, `/webhook`): `inicio`/`fim` as RFC 3339 times,
`paginacao.paginaAtual` (from 0) and `paginacao.itensPorPagina` (1-1000, 100 by default)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tgadmin.sandbox.pix.state import invalid

MAX_PER_PAGE = 1000
PER_PAGE = 100


def _time(query: Mapping[str, str], name: str, kind: str, required: bool) -> datetime | None:
    text = query.get(name)
    if text is None:
        if required:
            raise invalid(kind, f"o parâmetro {name} é obrigatório", name)
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid(kind, f"{name} deve ser um horário RFC 3339 com fuso", name)
    return moment


def _count(query: Mapping[str, str], name: str, kind: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise invalid(kind, f"{name} deve ser um inteiro de {low} a {high}", name)
    return int(text)


@dataclass
class Window:
    """A list query's time window and page."""

    inicio: datetime | None
    fim: datetime | None
    page: int
    per_page: int
    raw: Mapping[str, str]

    @classmethod
    def parse(cls, query: Mapping[str, str], kind: str, required: bool = True) -> Window:
        inicio = _time(query, "inicio", kind, required)
        fim = _time(query, "fim", kind, required)
        if inicio and fim and fim < inicio:
            raise invalid(kind, "fim é anterior a inicio", "fim")
        if query.get("cpf") and query.get("cnpj"):
            raise invalid(kind, "cpf e cnpj não podem ser usados ao mesmo tempo", "cpf")
        page = _count(query, "paginacao.paginaAtual", kind, 0, 0, 2**31 - 1)
        per_page = _count(query, "paginacao.itensPorPagina", kind, PER_PAGE, 1, MAX_PER_PAGE)
        return cls(inicio, fim, page, per_page, query)

    def contains(self, epoch: float) -> bool:
        stamp = datetime.fromtimestamp(epoch, UTC)
        return (self.inicio is None or self.inicio <= stamp) and (self.fim is None or stamp <= self.fim)

    def page_of(self, items: list[Any], echo: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[Any]]:
        """`parametros` as API Pix reports them, and this page's items."""
        parametros: dict[str, Any] = {name: self.raw[name] for name in ("inicio", "fim") if name in self.raw}
        parametros.update({name: self.raw[name] for name in echo if name in self.raw})
        parametros["paginacao"] = {
            "paginaAtual": self.page,
            "itensPorPagina": self.per_page,
            "quantidadeDePaginas": max(1, math.ceil(len(items) / self.per_page)),
            "quantidadeTotalDeItens": len(items),
        }
        start = self.page * self.per_page
        return parametros, items[start : start + self.per_page]


def flag(query: Mapping[str, str], name: str, kind: str) -> bool | None:
    """A boolean query parameter (`true`/`false`), or None when absent."""
    text = query.get(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise invalid(kind, f"{name} deve ser true ou false", name)
    return text == "true"
