"""What a buyer reads in the catalog, in pt-BR and English, and what a group reads in a creator's
promo (pt-BR). Plain texts (no parse mode): a creator's name or bio can hold any character."""

from __future__ import annotations

from tgadmin.i18n import Language
from tgadmin.models import Creator
from tgadmin.models.enums import CreatorTier, Currency

CHOOSE: dict[Language, str] = {
    "pt": "✨ Escolha uma modelo para ver as prévias e os conteúdos:",
    "en": "✨ Choose a creator to see their previews and content:",
}
PAGE: dict[Language, str] = {"pt": "\n(página {page} de {pages})", "en": "\n(page {page} of {pages})"}
ADULT_NOTE: dict[Language, str] = {
    "pt": "\n🔞 marca conteúdo para maiores de 18 anos: pedimos sua confirmação uma vez.",
    "en": "\n🔞 marks content for adults only: we ask you to confirm your age once.",
}
EMPTY: dict[Language, str] = {
    "pt": "Ainda não há modelos disponíveis. Volte em breve!",
    "en": "There are no creators available yet. Come back soon!",
}
UNKNOWN_LINK: dict[Language, str] = {
    "pt": "🤔 Não encontramos o que esse link procura: ele pode ter expirado. Veja quem está disponível:",
    "en": "🤔 We couldn't find what that link points to: it may have expired. Here is who is available:",
}
GONE: dict[Language, str] = {
    "pt": "Esta modelo não está mais disponível. Veja a lista atualizada.",
    "en": "This creator is no longer available. Here is the updated list.",
}
PREVIOUS: dict[Language, str] = {"pt": "◀️ Anterior", "en": "◀️ Previous"}
NEXT: dict[Language, str] = {"pt": "Próxima ▶️", "en": "Next ▶️"}
BACK: dict[Language, str] = {"pt": "⬅️ Todas as modelos", "en": "⬅️ All creators"}
AGE_PROMPT: dict[Language, str] = {
    "pt": "🔞 {name} publica conteúdo adulto. Confirme que você tem 18 anos ou mais para continuar.",
    "en": "🔞 {name} posts adult content. Please confirm you are 18 or older to continue.",
}
AGE_BUTTON: dict[Language, str] = {"pt": "✅ Tenho 18 anos ou mais", "en": "✅ I am 18 or older"}
AGE_THANKS: dict[Language, str] = {"pt": "Obrigado! Idade confirmada.", "en": "Thank you! Age confirmed."}
PRODUCTS: dict[Language, str] = {"pt": "\n\n👇 Escolha um conteúdo:", "en": "\n\n👇 Choose what to get:"}
NO_PRODUCTS: dict[Language, str] = {
    "pt": "\n\nNenhum conteúdo à venda no momento. Volte em breve!",
    "en": "\n\nNothing for sale right now. Come back soon!",
}
TIERS: dict[Language, dict[CreatorTier, str]] = {
    "pt": {
        CreatorTier.BRONZE: "🥉 Bronze",
        CreatorTier.SILVER: "🥈 Prata",
        CreatorTier.GOLD: "🥇 Ouro",
        CreatorTier.DIAMOND: "💎 Diamante",
    },
    "en": {
        CreatorTier.BRONZE: "🥉 Bronze",
        CreatorTier.SILVER: "🥈 Silver",
        CreatorTier.GOLD: "🥇 Gold",
        CreatorTier.DIAMOND: "💎 Diamond",
    },
}
SYMBOLS = {Currency.BRL: "R$", Currency.USD: "US$"}


def catalog(lang: Language, page: int, pages: int, *, any_adult: bool) -> str:
    text = CHOOSE[lang]
    if pages > 1:
        text += PAGE[lang].format(page=page + 1, pages=pages)
    if any_adult:
        text += ADULT_NOTE[lang]
    return text


def creator_button(name: str, is_adult: bool) -> str:
    return f"🔞 {name}" if is_adult else name


def age_prompt(lang: Language, name: str) -> str:
    return AGE_PROMPT[lang].format(name=name)


def creator_page(
    lang: Language, name: str, tier: CreatorTier, country: str | None, bio: str | None, has_products: bool
) -> str:
    """Name, tier and country, the bio, then what to do next."""
    details = " · ".join(part for part in (TIERS[lang][tier], country) if part)
    text = f"{name}\n{details}"
    if bio:
        text += f"\n\n{bio.strip()}"
    return text + (PRODUCTS[lang] if has_products else NO_PRODUCTS[lang])


def price(lang: Language, cents: int, currency: Currency = Currency.BRL) -> str:
    """`R$ 29,90` in pt-BR, `R$29.90` in English (thousands grouped the same way each reads them)."""
    symbol = SYMBOLS.get(currency, currency.value)
    units, rest = divmod(cents, 100)
    if lang == "pt":
        return f"{symbol} {units:,}".replace(",", ".") + f",{rest:02d}"
    return f"{symbol}{units:,}.{rest:02d}"


def product_button(
    lang: Language, title: str, cents: int, currency: Currency, stars_price: int | None
) -> str:
    label = f"{title} — {price(lang, cents, currency)}"
    return label + (f" · ⭐ {stars_price}" if stars_price else "")


# --- the promo a group sees (creator.jobs `send-promo`) ------------------------------------------

BUTTON = "🔥 Quero Ver Mais"
# The caption is read by the group, whose language we do not know: the storefront's default, pt-BR.
TIER_LABELS = {
    CreatorTier.BRONZE: "🥉 Bronze",
    CreatorTier.SILVER: "🥈 Prata",
    CreatorTier.GOLD: "🥇 Ouro",
    CreatorTier.DIAMOND: "💎 Diamante",
}
BIO_LINE = 200


def caption(creator: Creator) -> str:
    lines = [f"🔥 {creator.name}", TIER_LABELS.get(creator.tier, str(creator.tier))]
    bio = next((line.strip() for line in (creator.bio or "").splitlines() if line.strip()), "")
    if bio:
        lines.append(bio if len(bio) <= BIO_LINE else bio[: BIO_LINE - 1] + "…")
    return "\n".join(lines)
