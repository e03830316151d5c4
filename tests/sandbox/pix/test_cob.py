"""API Pix cob: creating, revising, removing and listing charges answer as the spec declares."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.pix.helpers import WINDOW, cob_body, conforms, create, problem
from tests.sandbox.pix.schemas import COB_COMPLETA, COB_GERADA, COBS_CONSULTADAS
from tgadmin.pix.providers.base import new_txid


async def test_cob_answers_are_cob_gerada_with_a_full_loc(api: httpx.AsyncClient) -> None:
    txid = new_txid()
    created = await api.put(f"/v2/cob/{txid}", json=cob_body())
    assert created.status_code == 201
    body = conforms(COB_GERADA, created.json())
    assert body["loc"]["txid"] == txid and body["loc"]["tipoCob"] == "cob"
    assert body["loc"]["location"] == body["location"]
    assert conforms(COB_COMPLETA, (await api.get(f"/v2/cob/{txid}")).json())["revisao"] == 0


async def test_put_without_calendario_is_refused(api: httpx.AsyncClient) -> None:
    body = cob_body()
    del body["calendario"]
    refused = problem(await api.put(f"/v2/cob/{new_txid()}", json=body), 400, "CobOperacaoInvalida")
    assert refused["violacoes"][0]["propriedade"] == "calendario"


async def test_valor_original_has_at_most_ten_integer_digits(api: httpx.AsyncClient) -> None:
    too_big = await api.put(f"/v2/cob/{new_txid()}", json=cob_body("12345678901.00"))
    assert problem(too_big, 400, "CobOperacaoInvalida")["violacoes"][0]["propriedade"] == "valor.original"
    largest = await api.put(f"/v2/cob/{new_txid()}", json=cob_body("9999999999.99"))
    assert conforms(COB_GERADA, largest.json())["valor"]["original"] == "9999999999.99"


async def test_devedor_info_adicionais_and_modalidade_are_kept(api: httpx.AsyncClient) -> None:
    extra = {
        "devedor": {"cnpj": "12345678000195", "nome": "Empresa de Serviços SA"},
        "infoAdicionais": [{"nome": "Pedido", "valor": "42"}],
        "valor": {"original": "37.00", "modalidadeAlteracao": 1},
    }
    txid = new_txid()
    created = await api.put(f"/v2/cob/{txid}", json={**cob_body(), **extra})
    assert created.status_code == 201, created.text
    for answer in (created, await api.get(f"/v2/cob/{txid}")):
        body = conforms(COB_COMPLETA, answer.json())
        assert body["devedor"] == extra["devedor"]
        assert body["infoAdicionais"] == extra["infoAdicionais"]
        assert body["valor"] == {"original": "37.00", "modalidadeAlteracao": 1}


@pytest.mark.parametrize(
    ("devedor", "where"),
    [
        ({"cpf": "12345678900", "nome": "Francisco"}, "devedor.cpf"),  # wrong check digits
        ({"cnpj": "12345678000100", "nome": "Empresa"}, "devedor.cnpj"),
        ({"cpf": "12345678909", "cnpj": "12345678000195", "nome": "Ambos"}, "devedor"),
        ({"cpf": "12345678909"}, "devedor.nome"),
    ],
)
async def test_a_devedor_that_breaks_the_schema_is_refused(
    api: httpx.AsyncClient, devedor: dict[str, str], where: str
) -> None:
    refused = await api.put(f"/v2/cob/{new_txid()}", json=cob_body(devedor=devedor))
    assert problem(refused, 400, "CobOperacaoInvalida")["violacoes"][0]["propriedade"] == where


async def test_put_on_a_txid_in_use_is_400_not_409(api: httpx.AsyncClient) -> None:
    txid = new_txid()
    assert (await api.put(f"/v2/cob/{txid}", json=cob_body())).status_code == 201
    problem(await api.put(f"/v2/cob/{txid}", json=cob_body()), 400, "CobOperacaoInvalida")


async def test_post_cob_creates_with_a_txid_chosen_by_the_psp(api: httpx.AsyncClient) -> None:
    created = await api.post("/v2/cob", json=cob_body())
    assert created.status_code == 201
    txid = conforms(COB_GERADA, created.json())["txid"]
    assert (await api.get(f"/v2/cob/{txid}")).json()["txid"] == txid


async def test_removing_with_other_changes_is_refused(api: httpx.AsyncClient) -> None:
    cob = await create(api)
    both = {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR", "valor": {"original": "5.00"}}
    problem(await api.patch(f"/v2/cob/{cob['txid']}", json=both), 400, "CobOperacaoInvalida")
    still = (await api.get(f"/v2/cob/{cob['txid']}")).json()
    assert (still["status"], still["valor"]["original"], still["revisao"]) == ("ATIVA", "19.90", 0)


async def test_revisions_count_changes_only_and_each_can_be_read(api: httpx.AsyncClient) -> None:
    txid = (await create(api))["txid"]
    assert conforms(COB_GERADA, (await api.patch(f"/v2/cob/{txid}", json={})).json())["revisao"] == 0
    change = {"valor": {"original": "25.00"}, "solicitacaoPagador": "Pack Ana"}
    assert (await api.patch(f"/v2/cob/{txid}", json=change)).json()["revisao"] == 1
    assert (await api.patch(f"/v2/cob/{txid}", json=change)).json()["revisao"] == 1  # nothing changed
    first = conforms(COB_COMPLETA, (await api.get(f"/v2/cob/{txid}", params={"revisao": 0})).json())
    assert (first["revisao"], first["valor"]["original"], "solicitacaoPagador" in first) == (
        0,
        "19.90",
        False,
    )
    second = (await api.get(f"/v2/cob/{txid}", params={"revisao": 1})).json()
    assert (second["revisao"], second["valor"]["original"], second["solicitacaoPagador"]) == (
        1,
        "25.00",
        "Pack Ana",
    )
    for missing in ("2", "x"):
        problem(await api.get(f"/v2/cob/{txid}", params={"revisao": missing}), 400, "CobConsultaInvalida")


async def test_cobs_are_listed_between_inicio_and_fim(api: httpx.AsyncClient) -> None:
    txids = [(await create(api))["txid"] for _ in range(3)]
    listed = await api.get("/v2/cob", params={**WINDOW, "paginacao.itensPorPagina": 2})
    body = conforms(COBS_CONSULTADAS, listed.json())
    assert [cob["txid"] for cob in body["cobs"]] == txids[:2]
    assert body["parametros"]["paginacao"]["quantidadeTotalDeItens"] == 3
    assert body["parametros"]["paginacao"]["quantidadeDePaginas"] == 2
    past = await api.get("/v2/cob", params={"inicio": "2001-01-01T00:00:00Z", "fim": "2001-01-02T00:00:00Z"})
    assert conforms(COBS_CONSULTADAS, past.json())["cobs"] == []
    problem(await api.get("/v2/cob", params={"fim": WINDOW["fim"]}), 400, "CobConsultaInvalida")
    backwards = {"inicio": WINDOW["fim"], "fim": WINDOW["inicio"]}
    problem(await api.get("/v2/cob", params=backwards), 400, "CobConsultaInvalida")
