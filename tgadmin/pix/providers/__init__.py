"""PIX providers behind one interface (`base.PixProvider`); `get_provider` picks one from settings."""

from __future__ import annotations

from tgadmin.config import PixProviderName, Settings
from tgadmin.errors import BadRequest, ConfigError
from tgadmin.pix.brcode import normalize_key
from tgadmin.pix.providers.apipix import ApiPixProvider
from tgadmin.pix.providers.base import PixProvider
from tgadmin.pix.providers.mercadopago import MercadoPagoProvider
from tgadmin.pix.providers.sandbox import sandbox_provider
from tgadmin.pix.providers.static import StaticPixProvider


def _secret(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name)
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def _apipix(settings: Settings) -> ApiPixProvider:
    settings.require("pix_api_url", "pix_client_id", "pix_client_secret", "pix_key")
    if settings.pix_cert_file is not None and settings.pix_key_file is None:
        raise ConfigError("PIX_KEY_FILE: is required when PIX_CERT_FILE is set")
    _check_key(settings.pix_key)
    return ApiPixProvider(
        base_url=str(settings.pix_api_url),
        client_id=str(settings.pix_client_id),
        client_secret=_secret(settings, "pix_client_secret") or "",
        pix_key=str(settings.pix_key),
        merchant_name=settings.pix_merchant_name,
        merchant_city=settings.pix_merchant_city,
        token_url=settings.pix_token_url,
        cert_file=settings.pix_cert_file,
        key_file=settings.pix_key_file,
        ca_file=settings.pix_ca_file,
        webhook_secret=_secret(settings, "pix_webhook_secret"),
    )


def _mercadopago(settings: Settings) -> MercadoPagoProvider:
    settings.require("mercadopago_access_token")
    public = settings.public_url
    return MercadoPagoProvider(
        access_token=_secret(settings, "mercadopago_access_token") or "",
        webhook_secret=_secret(settings, "mercadopago_webhook_secret"),
        api_url=settings.mercadopago_api_url,
        payer_email=settings.mercadopago_payer_email,
        # Mercado Pago calls only public https URLs; a local PUBLIC_URL relies on the panel's setting.
        notification_url=f"{public}/webhooks/pix/mercadopago" if public.startswith("https://") else None,
    )


def _static(settings: Settings) -> StaticPixProvider:
    settings.require("pix_key")
    try:
        return StaticPixProvider(
            pix_key=str(settings.pix_key),
            merchant_name=settings.pix_merchant_name,
            merchant_city=settings.pix_merchant_city,
        )
    except BadRequest as error:
        raise ConfigError(f"PIX_KEY/PIX_MERCHANT_NAME/PIX_MERCHANT_CITY: {error.message}") from None


def _check_key(key: str | None) -> None:
    if key is None:
        return
    try:
        normalize_key(key)
    except BadRequest as error:
        raise ConfigError(f"PIX_KEY: {error.message}") from None


def get_provider(settings: Settings) -> PixProvider:
    """The provider `PIX_PROVIDER` names, configured from settings; a missing setting is a ConfigError."""
    match settings.pix_provider:
        case PixProviderName.SANDBOX:
            _check_key(settings.pix_key)
            return sandbox_provider(settings)
        case PixProviderName.STATIC:
            return _static(settings)
        case PixProviderName.APIPIX:
            return _apipix(settings)
        case PixProviderName.MERCADOPAGO:
            return _mercadopago(settings)
    raise ConfigError(f"PIX_PROVIDER: unknown provider {settings.pix_provider!r}")


__all__ = ["ApiPixProvider", "MercadoPagoProvider", "PixProvider", "StaticPixProvider", "get_provider"]
