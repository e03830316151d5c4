"""The Telegram sandbox (PRODUCT.md section 7): a Bot API server that behaves like Telegram.

`create_app()` (tgadmin.sandbox.app) builds it; `serve(host, port)` (tgadmin.sandbox.server) runs
it; `tgadmin sandbox` is the command. Bot API at `/bot{token}/{method}`, control API under
`/sandbox/`, the chat page at `/`, Banco Central's API Pix from the `pix` package (the sandbox PSP).

Rate-limit accounting (the gateway mirrors it): every sending call (sendMessage, sendPhoto,
sendVideo, sendDocument, sendMediaGroup, copyMessage, sendInvoice) that reaches the limiter with a
valid token counts once, whether it then succeeds or fails, against
  - the bot: `per_bot_per_sec` per 1-second window (default 30), and
  - the bot in the chat named by `chat_id`: a private chat (positive id) `per_chat_per_sec` per
    1-second window (default 1), a group, supergroup or channel (negative id)
    `per_group_per_min` per 60-second window (default 20); an `@username` chat id counts only
    against the bot.
A call refused with 429 (`Too Many Requests: retry after N`, `parameters.retry_after` = N) does not
count. Windows slide over the sandbox clock (see `limits`): in any window no more than the rate is
accepted, and up to the rate always is. `POST /sandbox/config` changes the rates or turns
enforcement off (`enforce_limits: false`); changing it clears the windows.

Telegram may answer 429 to any method (deleteMessages, getChat ...), not only to the sends it
counts. `POST /sandbox/floods {method, retry_after, count, bot_id?, chat_id?}` makes the next
`count` calls of `method` (of that bot, naming that chat, when given) answer exactly that, whatever
the limits say; `GET /sandbox/floods` lists the answers still owed. Reset forgets them.
"""
