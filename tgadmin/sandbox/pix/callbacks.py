"""The PSP's callbacks: `{"pix": [...]}` POSTed to the webhook of the charge's key, retried until a
2xx; sent when a pix is received and when one of its refunds reaches `DEVOLVIDO`. Refunds held
`EM_PROCESSAMENTO` settle here, on the sandbox clock."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx

from tgadmin.sandbox.pix.state import MAX_LOG, PixPsp, iso

WEBHOOK_DELAYS = (0.0, 0.2, 0.5, 1.0, 2.0, 4.0)  # seconds before each attempt: 6 tries over ~8 s
HOLD_TICK = 0.05  # how often a held refund looks at the sandbox clock (which tests may move)


def notification_url(webhook_url: str) -> str:
    """API Pix's callback expression `{$request.body#/webhookUrl}/pix`: `/pix` appended literally
    (so `…/hook?x=1` is notified at `…/hook?x=1/pix`)."""
    return webhook_url + "/pix"


async def _deliver(psp: PixPsp, url: str, payload: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        for attempt, delay in enumerate(WEBHOOK_DELAYS, start=1):
            await asyncio.sleep(delay)
            entry: dict[str, Any] = {
                "url": url,
                "attempt": attempt,
                "endToEndId": payload["pix"][0]["endToEndId"],
            }
            try:
                response = await client.post(url, json=payload)
                entry["status_code"] = response.status_code
            except httpx.HTTPError as error:
                entry["error"] = f"{error.__class__.__name__}: {error}"
            psp.notifications.append(entry)
            del psp.notifications[:-MAX_LOG]
            if 200 <= entry.get("status_code", 0) < 300:
                return


def notify(psp: PixPsp, chave: str, pix: dict[str, Any]) -> str | None:
    """Send `pix` (a snapshot of it) to the webhook of `chave`; the URL notified, or None."""
    webhook = psp.webhooks.get(chave)
    if webhook is None:
        return None
    url = notification_url(webhook.url)
    psp.spawn(_deliver(psp, url, {"pix": [copy.deepcopy(pix)]}))
    return url


def complete_refund(psp: PixPsp, e2eid: str, refund: dict[str, Any], at: float) -> None:
    """The refund reached DEVOLVIDO: settled at `at`, and the charge's webhook told."""
    refund["status"] = "DEVOLVIDO"
    refund["horario"]["liquidacao"] = iso(at)
    pix = psp.paid_pix(e2eid)
    if pix is not None:
        notify(psp, psp.cobs[psp.by_e2e[e2eid]].terms.chave, pix)


def refuse_refund(refund: dict[str, Any], at: float, reason: str) -> None:
    """The refund will not be carried out (NAO_REALIZADO, with the PSP's `motivo`); nothing notified."""
    refund["status"] = "NAO_REALIZADO"
    refund["motivo"] = reason
    refund["horario"]["liquidacao"] = iso(at)


def settle_due(psp: PixPsp) -> None:
    """Every held refund whose time has come becomes DEVOLVIDO (and is notified), in order."""
    now = psp.now()
    for (e2eid, refund_id), due in sorted(psp.held.items(), key=lambda item: item[1]):
        if due > now:
            continue
        del psp.held[(e2eid, refund_id)]
        pix = psp.paid_pix(e2eid)
        refund = next((r for r in (pix or {}).get("devolucoes", []) if r["id"] == refund_id), None)
        reason = psp.refusing.pop((e2eid, refund_id), None)
        if refund is not None and reason is not None:
            refuse_refund(refund, due, reason)
        elif refund is not None:
            complete_refund(psp, e2eid, refund, due)


async def _watch(psp: PixPsp, due: float) -> None:
    # Polls the sandbox clock rather than sleeping: the clock may be frozen or moved forward.
    while True:
        remaining = due - psp.now()
        if remaining <= 0:
            settle_due(psp)
            return
        await asyncio.sleep(min(remaining, HOLD_TICK))


def hold_refund(psp: PixPsp, e2eid: str, refund_id: str, seconds: float) -> None:
    due = psp.now() + seconds
    psp.held[(e2eid, refund_id)] = due
    psp.spawn(_watch(psp, due))
