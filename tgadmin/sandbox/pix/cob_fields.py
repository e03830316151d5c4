"""The fields of an immediate charge (`CobSolicitada` for PUT/POST, `CobRevisada` for PATCH),
validated as API Pix 2.9.0 states them; any violation is 400 `CobOperacaoInvalida`."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from tgadmin.errors import BadRequest
from tgadmin.pix.brcode import MAX_KEY, normalize_key, valid_cpf
from tgadmin.sandbox.pix.state import Problem, Terms, invalid

KIND = "CobOperacaoInvalida"
TXID_RE = re.compile(r"[a-zA-Z0-9]{26,35}")
VALOR_RE = re.compile(r"\d{1,10}\.\d{2}")
CNPJ_RE = re.compile(r"[0-9A-Z]{14}")
REMOVED = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
MAX_SOLICITACAO = 140
MAX_NOME = 200
MAX_INFO = 50
MAX_INFO_NOME = 50
MAX_INFO_VALOR = 200
CNPJ_WEIGHTS = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]


def _bad(detail: str, field_name: str) -> Problem:
    return invalid(KIND, detail, field_name)


def check_txid(txid: str) -> str:
    if not TXID_RE.fullmatch(txid):
        raise _bad("txid deve ter de 26 a 35 caracteres alfanuméricos", "txid")
    return txid


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"{name} deve ser um objeto", name)
    return value


def _expiracao(value: Any) -> int:
    expiracao = _object(value, "calendario").get("expiracao", 86400)
    if not isinstance(expiracao, int) or isinstance(expiracao, bool) or not 0 < expiracao < 2**31:
        raise _bad("calendario.expiracao deve ser um inteiro positivo", "calendario.expiracao")
    return expiracao


def _valor(value: Any, current: Terms | None) -> tuple[str, int]:
    valor = _object(value, "valor")
    original = valor.get("original", current.valor if current else None)
    if not isinstance(original, str) or not VALOR_RE.fullmatch(original) or Decimal(original) == 0:
        raise _bad(
            "valor.original deve ser positivo, com até 10 dígitos inteiros e duas casas decimais",
            "valor.original",
        )
    modalidade = valor.get("modalidadeAlteracao", current.modalidade if current else 0)
    if modalidade not in (0, 1) or isinstance(modalidade, bool):
        raise _bad("valor.modalidadeAlteracao deve ser 0 ou 1", "valor.modalidadeAlteracao")
    return original, modalidade


def _chave(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_KEY:
        raise _bad("chave deve ser uma chave DICT de até 77 caracteres", "chave")
    try:
        return normalize_key(value)[1]
    except BadRequest as error:
        raise _bad(error.message, "chave") from None


def _solicitacao(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_SOLICITACAO):
        raise _bad("solicitacaoPagador deve ter até 140 caracteres", "solicitacaoPagador")
    return value or None


def valid_cnpj(cnpj: str) -> bool:
    """Check digits of a CNPJ, numeric or alphanumeric (letters count as their ASCII code - 48)."""
    if not CNPJ_RE.fullmatch(cnpj) or not cnpj[12:].isdigit() or len(set(cnpj)) == 1:
        return False
    values = [ord(char) - 48 for char in cnpj]
    for position, weights in ((12, CNPJ_WEIGHTS), (13, [6, *CNPJ_WEIGHTS])):
        rest = sum(v * w for v, w in zip(values[:position], weights, strict=True)) % 11
        if values[position] != (0 if rest < 2 else 11 - rest):
            return False
    return True


def _devedor(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    devedor = _object(value, "devedor")
    cpf, cnpj, nome = devedor.get("cpf"), devedor.get("cnpj"), devedor.get("nome")
    if (cpf is None) == (cnpj is None):
        raise _bad("devedor deve ter cpf ou cnpj, e não ambos", "devedor")
    if cpf is not None and not (isinstance(cpf, str) and valid_cpf(cpf)):
        raise _bad("devedor.cpf não é um CPF válido (11 dígitos)", "devedor.cpf")
    if cnpj is not None and not (isinstance(cnpj, str) and valid_cnpj(cnpj)):
        raise _bad("devedor.cnpj não é um CNPJ válido (14 caracteres)", "devedor.cnpj")
    if not isinstance(nome, str) or not nome.strip() or len(nome) > MAX_NOME:
        raise _bad("devedor.nome é obrigatório, com até 200 caracteres", "devedor.nome")
    return {"cpf": str(cpf), "nome": nome} if cpf is not None else {"cnpj": str(cnpj), "nome": nome}


def _info(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or len(value) > MAX_INFO:
        raise _bad("infoAdicionais deve ser uma lista de até 50 itens", "infoAdicionais")
    pairs = []
    for item in value:
        nome, valor = (item.get("nome"), item.get("valor")) if isinstance(item, dict) else (None, None)
        if not isinstance(nome, str) or not isinstance(valor, str):
            raise _bad("cada item de infoAdicionais tem nome e valor", "infoAdicionais")
        if len(nome) > MAX_INFO_NOME or len(valor) > MAX_INFO_VALOR:
            raise _bad("infoAdicionais: nome até 50 e valor até 200 caracteres", "infoAdicionais")
        pairs.append((nome, valor))
    return tuple(pairs)


def _no_loc(body: dict[str, Any]) -> None:
    # This PSP serves no /loc endpoints, so no location made beforehand can be referenced.
    if "loc" in body:
        raise _bad("o location referenciado por loc.id não existe", "loc.id")


def requested_terms(body: dict[str, Any]) -> Terms:
    """The terms of a new cob (`CobSolicitada`: `calendario`, `valor` and `chave` required)."""
    for name in ("calendario", "valor", "chave"):
        if name not in body:
            raise _bad(f"{name} é obrigatório", name)
    _no_loc(body)
    original, modalidade = _valor(body["valor"], None)
    return Terms(
        chave=_chave(body["chave"]),
        valor=original,
        expiracao=_expiracao(body["calendario"]),
        modalidade=modalidade,
        solicitacao=_solicitacao(body.get("solicitacaoPagador")),
        devedor=_devedor(body.get("devedor")),
        info=_info(body["infoAdicionais"]) if "infoAdicionais" in body else (),
    )


def revised_terms(terms: Terms, body: dict[str, Any]) -> Terms:
    """`terms` as a PATCH (`CobRevisada`) leaves them; removing the cob is a change of its own."""
    if "status" in body:
        if body["status"] != REMOVED:
            raise _bad(f"status só pode ser alterado para {REMOVED}", "status")
        others = sorted(set(body) - {"status"})
        if others:
            raise _bad(f"remover a cobrança junto com outras alterações ({', '.join(others)})", "status")
        return replace(terms, status=REMOVED)
    _no_loc(body)
    changes: dict[str, Any] = {}
    if "calendario" in body:
        changes["expiracao"] = _expiracao(
            {"expiracao": terms.expiracao, **_object(body["calendario"], "calendario")}
        )
    if "valor" in body:
        changes["valor"], changes["modalidade"] = _valor(body["valor"], terms)
    if "chave" in body:
        changes["chave"] = _chave(body["chave"])
    if "solicitacaoPagador" in body:
        changes["solicitacao"] = _solicitacao(body["solicitacaoPagador"])
    if "devedor" in body:
        changes["devedor"] = _devedor(body["devedor"])
    if "infoAdicionais" in body:
        changes["info"] = _info(body["infoAdicionais"])
    return replace(terms, **changes)
