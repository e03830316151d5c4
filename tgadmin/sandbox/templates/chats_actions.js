// What the operator does, as "who am I": pick a user, create users and groups, add and promote the
// bot, open a chat with a bot, write, press buttons, pay. Everything goes through the control API.

let me = null;            // the user everything is done as (id)
let users = [], bots = [];
let current = null;       // the open chat: {id, bot_id, type, title}
let detail = null;        // the open group's members, for its toolbar
let lastRendered = "", lastPeople = "";

const PRESENT = ["creator", "administrator", "member"];
const userName = (id) => (users.find((u) => u.id === id) || {first_name: String(id)}).first_name;
const isPrivate = () => current && current.type === "private";
const sameChat = (a, b) => a && b && a.id === b.id && (a.bot_id || null) === (b.bot_id || null);

function setMe(id) {
  me = id;
  $("me").value = id === null ? "" : String(id);
  $("writing-as").textContent = id === null ? "" : `as ${userName(id)}`;
}

async function loadPeople() {
  [users, bots] = await Promise.all([api("GET", "/sandbox/users"), api("GET", "/sandbox/bots")]);
  const signature = JSON.stringify([users, bots]);
  if (signature === lastPeople) return;
  lastPeople = signature;
  const select = $("me");
  select.replaceChildren();
  if (!users.length) select.append(el("option", "", "no users yet: + User"));
  for (const user of users) {
    const option = el("option", "", `${user.first_name}${user.language_code ? " (" + user.language_code + ")" : ""}`);
    option.value = user.id;
    select.append(option);
  }
  if (me === null || !users.some((u) => u.id === me)) me = users.length ? users[0].id : null;
  setMe(me);
}

function chatItem(chat, note, extraClass) {
  const item = el("div", `chat-item${extraClass ? " " + extraClass : ""}`, chat.title);
  item.dataset.chatId = chat.id;
  if (sameChat(current, chat)) item.classList.add("active");
  item.append(el("small", "", note));
  item.addEventListener("click", () => openChat(chat));
  return item;
}

async function loadChats() {
  const chats = await api("GET", "/sandbox/chats");
  const groups = chats.filter((c) => c.type !== "private");
  const privates = chats.filter((c) => c.type === "private");
  const list = $("chats");
  list.replaceChildren();
  list.append(el("div", "section", "Groups and channels"));
  for (const chat of groups) {
    list.append(chatItem(chat, `${chat.type}${chat.migrated_to ? " · upgraded" : ""} · ${chat.messages} messages`));
  }
  if (!groups.length) list.append(el("div", "chat-item new", "none yet: + Group"));
  list.append(el("div", "section", "Chats with bots"));
  for (const chat of privates) {
    list.append(chatItem(chat, `${chat.blocked ? "bot blocked · " : ""}${chat.messages} messages`));
  }
  // The bots "I" have not talked to yet, one entry each: opening one is opening that bot in Telegram.
  for (const bot of me === null ? [] : bots) {
    if (privates.some((c) => c.id === me && c.bot_id === bot.id)) continue;
    list.append(chatItem(newPrivateChat(me, bot), "not started · open to press START", "new"));
  }
}

function newPrivateChat(userId, bot) {
  return {id: userId, bot_id: bot.id, type: "private", title: `${userName(userId)} · @${bot.username}`, messages: 0};
}

async function openChat(chat) {
  current = chat;
  detail = null;
  lastRendered = "";
  if (isPrivate() && chat.id !== me) setMe(chat.id);
  $("chat-title").textContent = chat.title;
  $("composer").hidden = false;
  await refresh();
}

async function loadDetail() {
  if (!current || isPrivate()) { detail = null; renderTools(); return; }
  detail = await api("GET", `/sandbox/chats/${current.id}`);
  renderTools();
}

function toolButton(text, action) {
  const button = el("button", "", text);
  button.type = "button";
  button.addEventListener("click", async () => {
    try { await action(); } catch (error) { toast(error.message); }
    refresh();
  });
  return button;
}

function setMember(body) {
  return api("POST", `/sandbox/chats/${current.id}/members`, body);
}

// A group's header: where the bots and "I" stand, and the one next step for each.
function renderTools() {
  const box = $("chat-tools");
  box.replaceChildren();
  if (!detail) return;
  const status = (id) => (detail.members.find((m) => m.user && m.user.id === id) || {status: "left"}).status;
  for (const bot of bots) {
    const now = status(bot.id);
    if (now === "administrator") box.append(el("span", "badge", `@${bot.username} is admin ✓`));
    else if (PRESENT.includes(now) || now === "restricted") {
      box.append(toolButton(`Promote @${bot.username} to admin`, () => setMember({bot_id: bot.id, status: "administrator"})));
    } else {
      box.append(toolButton(`Add @${bot.username}`, () => setMember({bot_id: bot.id, status: "member"})));
    }
  }
  if (me === null) return;
  const mine = status(me);
  if (PRESENT.includes(mine)) box.append(el("span", "badge", `${userName(me)}: ${mine}`));
  else box.append(toolButton(`Join as ${userName(me)}`, () => setMember({user_id: me, status: "member"})));
}

async function loadMessages() {
  if (!current) return;
  const query = current.bot_id ? `?bot_id=${current.bot_id}` : "";
  let messages;
  try {
    messages = await api("GET", `/sandbox/chats/${current.id}/messages${query}`);
  } catch (error) {
    if (isPrivate() && lastRendered !== "not started") { lastRendered = "not started"; renderNotStarted(); }
    return;
  }
  const signature = JSON.stringify(messages);
  if (signature === lastRendered) return;
  lastRendered = signature;
  renderMessages(messages);
}

// Who acts: in a private chat its user (only they can), in a group "I".
function actingUser() {
  if (!current) return null;
  return isPrivate() ? current.id : me;
}

async function pressButton(message, button) {
  const user = actingUser();
  if (!user) { toast("Pick who you are first"); return; }
  try {
    const body = {chat_id: current.id, message_id: message.message_id, data: button.callback_data};
    if (current.bot_id) body.bot_id = current.bot_id;
    const {callback_query_id} = await api("POST", `/sandbox/users/${user}/press`, body);
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const state = await api("GET", `/sandbox/callback_queries/${callback_query_id}`);
      if (state.answered) {
        if (state.answer && state.answer.text) toast(state.answer.text);
        break;
      }
    }
  } catch (error) { toast(error.message); }
  loadMessages();
}

async function payInvoice(message) {
  const user = actingUser();
  if (!user) { toast("Pick who you are first"); return; }
  try {
    const body = {chat_id: current.id, message_id: message.message_id};
    if (current.bot_id) body.bot_id = current.bot_id;
    const result = await api("POST", `/sandbox/users/${user}/pay`, body);
    toast(result.status === "paid" ? "Payment sent" : `Declined: ${result.error_message}`);
  } catch (error) { toast(error.message); }
  loadMessages();
}

async function payPix(code) {
  try {
    const result = await api("POST", "/sandbox/pix/pay", {code});
    toast(`PIX paid${result && result.status ? ": " + result.status : ""}`);
  } catch (error) { toast(`PIX refused: ${error.message}`); }
  loadMessages();
}

async function sendText(text) {
  const user = actingUser();
  if (!user) { toast("Pick who you are first"); return; }
  if (!text) return;
  const body = {text, chat_id: current.id};
  if (current.bot_id) body.bot_id = current.bot_id;
  try { await api("POST", `/sandbox/users/${user}/messages`, body); } catch (error) { toast(error.message); }
  await refresh();
}

async function followDeepLink(target) {
  if (me === null) { toast("Pick who you are first"); return; }
  await openChat(newPrivateChat(me, target.bot));
  await sendText(target.payload ? `/start ${target.payload}` : "/start");
}

function toggleForm(id) {
  const form = $(id);
  form.hidden = !form.hidden;
  if (!form.hidden) form.querySelector("input").focus();
}

$("show-new-user").addEventListener("click", () => toggleForm("new-user"));
$("show-new-group").addEventListener("click", () => toggleForm("new-group"));

$("new-user").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("new-user-name").value.trim();
  if (!name) return;
  try {
    const {id} = await api("POST", "/sandbox/users", {first_name: name, language_code: $("new-user-language").value});
    $("new-user-name").value = "";
    $("new-user").hidden = true;
    await loadPeople();
    toast(`You are now ${name}`);
    await becomeUser(id);
  } catch (error) { toast(error.message); }
});

$("new-group").addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = $("new-group-title").value.trim();
  if (!title) return;
  const body = {title, type: $("new-group-type").value};
  if (me !== null) body.owner_id = me;
  try {
    const {id} = await api("POST", "/sandbox/chats", body);
    $("new-group-title").value = "";
    $("new-group").hidden = true;
    await loadPeople();
    await openChat({id, type: body.type, title});
  } catch (error) { toast(error.message); }
});

async function becomeUser(id) {
  setMe(id);
  // A private chat belongs to its user: becoming someone else opens their chat with the same bot.
  const bot = isPrivate() && id !== null && bots.find((b) => b.id === current.bot_id);
  if (bot) await openChat(newPrivateChat(id, bot));
  else await refresh();
}

$("me").addEventListener("change", () => becomeUser(Number($("me").value) || null));

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("text");
  sendText(input.value.trim());
  input.value = "";
});

async function refreshOnce() {
  try {
    await loadPeople();
    await loadChats();
    await loadDetail();
  } catch (error) { /* the sandbox restarting: the next tick tries again */ }
  await loadMessages();
}

// One refresh at a time: the timer's and an action's never interleave their drawing.
let refreshing = Promise.resolve(), queued = 0;
function refresh() {
  queued++;
  refreshing = refreshing.then(refreshOnce, refreshOnce).finally(() => { queued--; });
  return refreshing;
}

refresh();
setInterval(() => { if (!queued) refresh(); }, 1000);
