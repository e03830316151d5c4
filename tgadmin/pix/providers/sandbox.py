"""Provider `sandbox`: the API Pix client pointed at the Telegram sandbox's PSP, with mTLS off.

One client, two servers: what is tested here against the sandbox is what talks to a real PSP.
"""

from __future__ import annotations

from typing import Any

from tgadmin.config import Settings
from tgadmin.errors import Conflict
from tgadmin.pix.providers.apipix import ApiPixProvider
from tgadmin.pix.providers.http import json_object, problem_detail, raise_for_status, send

# The sandbox accepts any client credentials; these are used when none are configured.
SANDBOX_CLIENT = ("tgadmin", "sandbox")
# A random (EVP) key: the sandbox bank holds any key, and this one is valid in shape.
SANDBOX_PIX_KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"


def sandbox_url(settings: Settings) -> str:
    """`PIX_API_URL` if set, else the sandbox that `TELEGRAM_API_BASE_URL` names, else the default port."""
    if settings.pix_api_url:
        return settings.pix_api_url
    if settings.uses_sandbox_telegram:
        return settings.telegram_api_base_url
    return f"http://127.0.0.1:{settings.sandbox_port}"


class SandboxProvider(ApiPixProvider):
    name = "sandbox"

    async def pay(self, copy_paste: str) -> dict[str, Any]:
        """The buyer's bank app pays `copy_paste` (`POST /sandbox/pix/pay`); the PSP then notifies us.

        Returns the `pix` entry the PSP recorded, with `notified`: the URL it notifies, or None when
        no webhook is registered (then polling finds the payment)."""
        path = "/sandbox/pix/pay"
        response = await send(self._http.get(), self.name, "POST", path, json={"code": copy_paste})
        if response.status_code == 400:
            # Unknown, removed, expired or already paid: the charge's state, not a malformed call.
            raise Conflict(f"the sandbox bank did not pay: {problem_detail(response)}")
        raise_for_status(response, self.name)
        return json_object(response, self.name)


def sandbox_provider(settings: Settings) -> SandboxProvider:
    secret = settings.pix_client_secret.get_secret_value() if settings.pix_client_secret else None
    webhook_secret = settings.pix_webhook_secret
    return SandboxProvider(
        base_url=sandbox_url(settings),
        client_id=settings.pix_client_id or SANDBOX_CLIENT[0],
        client_secret=secret or SANDBOX_CLIENT[1],
        pix_key=settings.pix_key or SANDBOX_PIX_KEY,
        merchant_name=settings.pix_merchant_name,
        merchant_city=settings.pix_merchant_city,
        token_url=settings.pix_token_url,
        webhook_secret=webhook_secret.get_secret_value() if webhook_secret else None,
    )
