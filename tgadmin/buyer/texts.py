"""What a buyer reads about the bot itself: /language, /help, and the hint for messages the bot
does not understand. pt-BR and English; plain texts (no parse mode)."""

from __future__ import annotations

from tgadmin.i18n import Language

CHOOSE_LANGUAGE: dict[Language, str] = {
    "pt": "🌐 Escolha seu idioma:",
    "en": "🌐 Choose your language:",
}
# Each language's button is written in that language, whoever reads it.
LANGUAGE_NAMES: dict[Language, str] = {"pt": "🇧🇷 Português", "en": "🇬🇧 English"}
LANGUAGE_SET: dict[Language, str] = {
    "pt": "✅ Pronto! Vou falar com você em português.",
    "en": "✅ Done! I will speak English with you.",
}
HELP: dict[Language, str] = {
    "pt": (
        "Como funciona:\n"
        "1. Escolha uma modelo e um conteúdo.\n"
        "2. Pague por PIX ou com Telegram Stars.\n"
        "3. Receba o conteúdo aqui mesmo, na hora.\n\n"
        "Comandos:\n"
        "/start — ver as modelos\n"
        "/mypurchases — suas compras (e reenviar um pacote)\n"
        "/language — mudar o idioma\n"
        "/help — esta ajuda\n"
        "/paysupport — ajuda com um pagamento"
    ),
    "en": (
        "How it works:\n"
        "1. Choose a creator and what to get.\n"
        "2. Pay with PIX or Telegram Stars.\n"
        "3. Receive the content right here, at once.\n\n"
        "Commands:\n"
        "/start — see the creators\n"
        "/mypurchases — your purchases (and send a pack again)\n"
        "/language — change the language\n"
        "/help — this help\n"
        "/paysupport — help with a payment"
    ),
}
HINT: dict[Language, str] = {
    "pt": "Não entendi 🙂 Envie /start para ver as modelos ou /help para ajuda.",
    "en": "I didn't get that 🙂 Send /start to see the creators or /help for help.",
}
STALE_BUTTON: dict[Language, str] = {
    "pt": "Este botão não vale mais. Envie /start para recomeçar.",
    "en": "This button no longer works. Send /start to begin again.",
}
