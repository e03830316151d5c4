// How a chat looks: messages, albums, buttons, invoices and PIX codes, as a Telegram client draws them.
// What the buttons do lives in chats_actions.js.

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
};

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.style.display = "none"; }, 3500);
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? {"Content-Type": "application/json"} : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const reason = data && (data.error || data.detail || data.reason) || response.statusText;
    throw new Error(typeof reason === "string" ? reason : JSON.stringify(reason));
  }
  return data;
}

// A t.me link to one of the sandbox's bots: {username, payload}; anything else: null.
function deepLink(url) {
  let parsed;
  try { parsed = new URL(url); } catch (e) { return null; }
  let username = null;
  if (parsed.protocol === "tg:" && parsed.hostname === "resolve") username = parsed.searchParams.get("domain");
  else if (["t.me", "telegram.me"].includes(parsed.hostname)) username = parsed.pathname.replace(/^\//, "").split("/")[0];
  const bot = username && bots.find((b) => (b.username || "").toLowerCase() === username.toLowerCase());
  return bot ? {bot, payload: parsed.searchParams.get("start")} : null;
}

function senderName(message) {
  if (!message.sender) return current.title;
  return message.sender.is_bot ? `🤖 ${message.sender.first_name}` : message.sender.first_name;
}

function serviceText(service) {
  if (service.new_chat_members) return `${service.new_chat_members.map((u) => u.first_name).join(", ")} joined`;
  if (service.left_chat_member) return `${service.left_chat_member.first_name} left`;
  if (service.migrate_to_chat_id) return `Group upgraded to supergroup ${service.migrate_to_chat_id}`;
  if (service.migrate_from_chat_id) return `Supergroup created from group ${service.migrate_from_chat_id}`;
  if (service.successful_payment) return `Paid ⭐${service.successful_payment.total_amount}`;
  if (service.refunded_payment) return `Refunded ⭐${service.refunded_payment.total_amount}`;
  return "service message";
}

function mediaNode(media) {
  if (media.kind === "photo" && media.has_bytes) {
    const img = el("img");
    img.src = `/sandbox/files/${encodeURIComponent(media.file_id)}`;
    img.alt = "photo";
    return img;
  }
  const label = media.kind === "photo" ? "🖼 photo" : media.kind === "video" ? "🎬 video" : "📄 document";
  return el("div", "file", `${label} ${media.file_name || media.url || ""}`.trim());
}

function urlButton(button) {
  const link = el("a", "", button.text);
  link.href = button.url;
  const target = deepLink(button.url);
  if (target) {
    // What Telegram does with a bot's deep link: open that bot's chat and send /start with the payload.
    link.title = `Opens @${target.bot.username} and sends /start${target.payload ? " " + target.payload : ""}`;
    link.addEventListener("click", (event) => { event.preventDefault(); followDeepLink(target); });
  } else {
    link.target = "_blank";
    link.rel = "noopener";
  }
  return link;
}

function buttonsNode(message) {
  const box = el("div", "buttons");
  for (const row of message.buttons) {
    const line = el("div", "row");
    for (const button of row) {
      if (button.url) {
        line.append(urlButton(button));
      } else {
        const press = el("button", "", button.text);
        press.type = "button";
        press.addEventListener("click", () => (button.pay ? payInvoice(message) : pressButton(message, button)));
        line.append(press);
      }
    }
    box.append(line);
  }
  return box;
}

function invoiceNode(message) {
  const invoice = el("div", "invoice");
  invoice.append(el("strong", "", message.invoice.title), el("div", "", message.invoice.description));
  const amount = message.invoice.currency === "XTR" ? `⭐${message.invoice.total_amount}`
    : `${message.invoice.total_amount} ${message.invoice.currency}`;
  if (message.invoice.paid_by.length) {
    invoice.append(el("div", "", `Paid ${amount}`));
  } else if (!message.buttons.length) {
    const pay = el("button", "pay-invoice", `Pay ${amount}`);
    pay.type = "button";
    pay.addEventListener("click", () => payInvoice(message));
    invoice.append(pay);
  }
  return invoice;
}

function pixNode(code) {
  const row = el("div", "pix");
  const pay = el("button", "pay-pix", "Pay (sandbox bank)");
  pay.type = "button";
  pay.title = "Pay this PIX code as the buyer's bank would";
  pay.addEventListener("click", () => payPix(code));
  row.append(el("code", "", code), pay);
  return row;
}

function messageNode(message, album) {
  const isService = Object.keys(message.service).length > 0 && !message.text && !message.media;
  const node = el("div", "msg");
  node.dataset.messageId = message.message_id;
  if (isService) {
    node.classList.add("service");
    node.textContent = serviceText(message.service);
    return node;
  }
  if (message.sender && !message.sender.is_bot) node.classList.add("user");
  if (message.deleted) node.classList.add("deleted");
  node.append(el("div", "from", senderName(message)));
  if (album) {
    const grid = el("div", "album");
    for (const item of album) grid.append(mediaNode(item.media));
    node.append(grid);
    const caption = album.find((item) => item.caption);
    if (caption) node.append(el("div", "text", caption.caption));
  } else {
    if (message.media) node.append(mediaNode(message.media));
    const body = message.text || message.caption;
    if (body) node.append(el("div", "text", body));
  }
  if (message.invoice) node.append(invoiceNode(message));
  for (const code of message.pix_codes) node.append(pixNode(code));
  if (message.buttons.length && !message.deleted) node.append(buttonsNode(message));
  const meta = new Date(message.date * 1000).toLocaleTimeString()
    + (message.edit_date ? " · edited" : "") + (message.protect_content ? " · protected" : "")
    + (message.deleted ? " · deleted" : "");
  node.append(el("div", "meta", meta));
  return node;
}

function renderKeyboard(messages) {
  const box = $("keyboard");
  const last = [...messages].reverse().find((m) => m.sender && m.sender.is_bot && m.keyboard.length);
  box.replaceChildren();
  box.hidden = !last;
  if (!last) return;
  for (const row of last.keyboard) {
    for (const key of row) {
      const text = typeof key === "string" ? key : key.text;
      const button = el("button", "", text);
      button.type = "button";
      button.addEventListener("click", () => sendText(text));
      box.append(button);
    }
  }
}

function renderMessages(messages) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren();
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message.media_group_id) {
      const album = [message];
      while (i + 1 < messages.length && messages[i + 1].media_group_id === message.media_group_id) album.push(messages[++i]);
      box.append(messageNode(message, album));
    } else {
      box.append(messageNode(message, null));
    }
  }
  if (!messages.length) box.append(el("p", "empty", "No messages yet."));
  renderKeyboard(messages);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// A private chat the user has not opened yet: Telegram's START button, which sends /start.
function renderNotStarted() {
  const box = $("messages");
  box.replaceChildren();
  const wrap = el("div", "empty");
  wrap.append(el("p", "", `${current.title}: no messages yet. Press START (or type /start) to talk to the bot.`));
  const start = el("button", "start", "START");
  start.type = "button";
  start.addEventListener("click", () => sendText("/start"));
  wrap.append(start);
  box.append(wrap);
  renderKeyboard([]);
}
