// MessageList view: renders the chat incrementally from custom messages.
//
// Python sends only what changed; each message names the key of the message
// after it ("next"), so a view places it without knowing the whole list. A
// view keeps at most `max_nodes` message nodes: appends drop the oldest nodes,
// an older page drops the newest (the view is then "detached" from the latest
// message until the reader jumps back). Every text is set with textContent,
// but for a message's "html": Markdown Python rendered and sanitized against
// its allow-list. The view adds a copy button to each code block and
// typesets math placeholders with KaTeX, which Python sends when first asked.
//
// Grouping: a message whose author (author_id) and day match the message
// above it, with no long pause between, is a follow-up and shows no name; the
// first message of each day carries a date line. Both depend only on the node
// above, so every change regroups just the nodes it placed or removed and the
// ones right below them.
//
// Own messages: an Edit and a Delete button under each of the reader's sent
// messages (shown on hover and on keyboard focus). Edit opens the text in a
// box inside the bubble: Enter saves, Shift+Enter breaks the line, Escape
// cancels. Delete asks once more on the same button ("Delete?"). Python checks
// again and the server enforces it: these buttons are a convenience, not the
// rule. A change on its way shows "Saving…" / "Deleting…"; an edited message
// says "edited"; a deleted one is removed.
//
// Keeping the reader's place: while the view can be measured, it remembers
// whether the reader is at the bottom (`follow`) or else which message sits at
// the top (`spot`). A hidden view (display: none, a background tab, a
// detached notebook cell) measures as zero, so it goes by what it remembered,
// and puts the reader back when a resize or visibility observer says it shows
// again.
//
// Row parts: a feature that adds nodes to every message (reactions, replies,
// attachments) lives in a file of its own, message_list.<feature>.js, which
// Python appends to this module (widget/_sources.py). At load it registers
//   ROW_PARTS.push({ start(view), build(row, view), fill(row, message, view) })
// start (optional) runs once per view, before its first snapshot; what it
// returns, if a function, runs when the view goes. build adds the part's nodes
// to row.parts.bubble / row.parts.foot once per row; fill keeps them current
// each time the row's message changes. `view` gives the part the model, this
// view's id, its rows and helpers:
// - `view.handle(type, fn)` routes a custom message type of the part's own to
//   it as fn(msg, buffers);
// - `view.applied(fn)` calls fn(msg) after each of the list's own messages
//   ("snapshot", "page", "older", "change"...) is drawn;
// - `view.tools(row)` is the row's hover toolbar; `view.older()` asks for the
//   page above the first row shown (as "Load older" does);
// - `view.atLatest()` says the newest message is in the DOM and scrolled to;
//   `view.jumpToLatest()` is the marker's click; a part that scrolls the view
//   calls `view.scrolled()`.

const STATUSES = new Set(["sent", "pending", "failed"]);
const NEAR_BOTTOM_PX = 48;
// A pause this long between one author's messages starts a new group.
const GROUP_GAP_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const COPY_NOTE_MS = 2000;
// KaTeX is loaded once per page, whichever chat asks first: its slot is global.
const ROW_PARTS = [];

const KATEX_SLOT = Symbol.for("directus-chat-widget.katex");
const KATEX_OPTIONS = {
  throwOnError: false, // a typo shows as red TeX, not an exception
  trust: false, // no \href, \url, \includegraphics, \htmlClass...
  strict: "ignore",
  maxSize: 10, // em: no \rule or \kern the size of the page
  maxExpand: 500, // macro expansions: no exponential \def
  output: "htmlAndMathml",
};

function newViewId() {
  // crypto.randomUUID needs a secure context; plain http on a LAN is not one.
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") {
    try {
      return globalThis.crypto.randomUUID();
    } catch (_) {
      // fall through
    }
  }
  return `v-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

// The reader's calendar day (their timezone) as a number: 20261129.
function dayKey(ms) {
  const date = new Date(ms == null ? Date.now() : ms);
  return date.getFullYear() * 10000 + (date.getMonth() + 1) * 100 + date.getDate();
}

function dayLabel(ms) {
  const date = new Date(ms == null ? Date.now() : ms);
  const now = new Date();
  const key = dayKey(date.getTime());
  if (key === dayKey(now.getTime())) return "Today";
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1, 12);
  if (key === dayKey(yesterday.getTime())) return "Yesterday";
  const options = { weekday: "long", month: "long", day: "numeric" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return date.toLocaleDateString([], options);
}

function formatTime(ms) {
  if (ms == null) return ["", ""];
  const date = new Date(ms);
  const short = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return [short, date.toLocaleString()];
}

function snippet(text) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > 40 ? `${flat.slice(0, 40)}…` : flat;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// -- rich messages ---------------------------------------------------------------

async function copyText(text) {
  const clipboard = globalThis.navigator && globalThis.navigator.clipboard;
  // Absent outside a secure context (plain http on a LAN): say so, do not throw.
  if (!clipboard || typeof clipboard.writeText !== "function") throw new Error("no clipboard");
  await clipboard.writeText(text);
}

// A code block with a button that copies it; a short note on the button says how it went.
function addCopyButton(pre) {
  const code = pre.querySelector("code") || pre;
  const box = element("div", "dcw-code");
  const button = element("button", "dcw-copy", "Copy");
  button.type = "button";
  button.setAttribute("aria-label", "Copy code");
  let timer = null;
  const note = (label, failed) => {
    clearTimeout(timer);
    button.textContent = label;
    button.classList.toggle("dcw-copy-failed", failed);
    timer = setTimeout(() => {
      button.textContent = "Copy";
      button.classList.remove("dcw-copy-failed");
    }, COPY_NOTE_MS);
  };
  button.addEventListener("click", () => {
    // The block's text without the newline that ends every fence.
    copyText(code.textContent.replace(/\n$/, "")).then(
      () => note("Copied", false),
      () => note("Copy failed", true),
    );
  });
  pre.replaceWith(box);
  box.append(button, pre);
}

function katexSlot() {
  if (!globalThis[KATEX_SLOT]) {
    let settle;
    const ready = new Promise((resolve) => {
      settle = resolve;
    });
    globalThis[KATEX_SLOT] = { asked: false, settled: false, ready, settle };
  }
  return globalThis[KATEX_SLOT];
}

// Python's answer to "katex": its CSS into the page once, the module imported.
async function installKatex(msg) {
  const slot = katexSlot();
  if (slot.settled) return;
  slot.settled = true;
  try {
    const style = document.createElement("style");
    style.dataset.dcwKatex = "";
    style.textContent = String(msg.css || "");
    document.head.append(style);
    const blob = new Blob([String(msg.module || "")], { type: "text/javascript" });
    const url = URL.createObjectURL(blob);
    try {
      slot.settle((await import(url)).default);
    } finally {
      URL.revokeObjectURL(url);
    }
  } catch (error) {
    console.warn("directus-chat-widget: KaTeX did not load; math stays TeX", error);
    slot.settle(null);
  }
}

function typeset(katex, node) {
  for (const math of node.querySelectorAll(".dcw-math")) {
    if (math.dataset.tex !== undefined) continue; // done
    const tex = math.textContent;
    math.dataset.tex = tex;
    try {
      katex.render(tex, math, {
        ...KATEX_OPTIONS,
        displayMode: math.classList.contains("dcw-math-display"),
      });
    } catch (_) {
      math.textContent = tex; // KaTeX's own failure: the source, as text
    }
  }
}

function render({ model, el }) {
  const viewId = newViewId();

  const root = element("div", "dcw-list");
  const scroller = element("div", "dcw-list-scroller");
  // Focusable, so the keyboard can scroll it (arrows, Page Up/Down).
  scroller.tabIndex = 0;
  scroller.setAttribute("role", "region");
  scroller.setAttribute("aria-label", "Chat messages");
  const olderButton = element("button", "dcw-list-older", "Load older messages");
  olderButton.type = "button";
  const items = element("div", "dcw-list-items");
  items.setAttribute("role", "log");
  items.setAttribute("aria-live", "polite");
  items.setAttribute("aria-label", "Messages");
  const empty = element("div", "dcw-list-empty");
  const marker = element("button", "dcw-list-new");
  marker.type = "button";
  const markerText = element("span", "dcw-list-new-text");
  const markerArrow = element("span", "dcw-list-new-arrow", " ↓");
  markerArrow.setAttribute("aria-hidden", "true");
  marker.append(markerText, markerArrow);
  scroller.append(olderButton, items, empty);
  root.append(scroller, marker);
  el.append(root);

  const rows = new Map(); // key -> {node, parts, data, ms, start, dayStart}
  const dirty = new Set(); // nodes whose group or date line may have changed
  let attached = true; // the last node is the newest message Python holds
  let unseen = 0; // new messages below the reader's position (or not rendered)
  let loadingOlder = false;
  let storeFirst = null;
  let storeOlder = false;
  // Where the reader was when the view could last be measured.
  let follow = true; // at the bottom
  let spot = null; // else {key, offset}: the top message and its distance from the top
  const handlers = new Map(); // a row part's own custom message types
  // What a row part may use of this view (see "Row parts" above).
  const view = {
    model,
    viewId,
    rows,
    scroller,
    element,
    snippet,
    handle: (type, fn) => handlers.set(type, fn),
    older: () => onOlder(),
    tools: rowTools,
    applied: (fn) => afterApply.push(fn),
    atLatest: () => attached && measurable() && nearBottom(),
    jumpToLatest: () => onMarker(),
    scrolled: () => {
      remember(); // a part moved the view: where the reader now is, kept on resize
      updateChrome();
    },
  };
  const afterApply = [];

  // -- rendering one message ---------------------------------------------------

  // The row's toolbar in the corner of its bubble (shown on hover and focus),
  // made when a part first puts a button there.
  function rowTools(row) {
    if (!row.parts.tools) {
      row.parts.tools = element("div", "dcw-row-tools");
      row.parts.bubble.append(row.parts.tools);
    }
    return row.parts.tools;
  }

  function build(message) {
    const node = element("div", "dcw-msg");
    node.dataset.key = message.key;
    const day = element("div", "dcw-day");
    const bubble = element("div", "dcw-bubble");
    const meta = element("div", "dcw-msg-meta");
    const author = element("span", "dcw-msg-author");
    author.dir = "auto";
    const time = element("time", "dcw-msg-time");
    meta.append(author, time);
    const text = element("div", "dcw-msg-text");
    text.dir = "auto";
    const state = element("div", "dcw-msg-state");
    const stateText = element("span", "dcw-msg-state-text");
    const retry = element("button", "dcw-msg-retry", "Retry");
    retry.type = "button";
    const discard = element("button", "dcw-msg-discard", "Discard");
    discard.type = "button";
    state.append(stateText, retry, discard);
    const foot = element("div", "dcw-msg-foot");
    const edited = element("span", "dcw-msg-edited", "edited");
    const edit = element("button", "dcw-msg-edit", "Edit");
    edit.type = "button";
    const remove = element("button", "dcw-msg-delete", "Delete");
    remove.type = "button";
    foot.append(edited, edit, remove);
    bubble.append(meta, text, state, foot);
    node.append(day, bubble);
    retry.addEventListener("click", () => {
      retry.disabled = true;
      model.send({ type: "retry", key: message.key });
    });
    discard.addEventListener("click", () => {
      discard.disabled = true;
      model.send({ type: "discard", key: message.key });
    });
    const parts = {
      day, bubble, author, time, text, stateText, retry, discard, foot, edited, edit, remove,
    };
    const row = {
      node, parts, data: null, ms: null, start: true, dayStart: true, shown: null, editor: null,
    };
    edit.addEventListener("click", () => openEditor(row));
    remove.addEventListener("click", () => {
      if (!remove.classList.contains("dcw-confirm")) {
        remove.classList.add("dcw-confirm");
        remove.textContent = "Delete?";
        return;
      }
      remove.disabled = true;
      model.send({ type: "delete", key: row.data.key });
    });
    remove.addEventListener("blur", () => unconfirm(remove));
    remove.addEventListener("keydown", (event) => {
      if (event.key === "Escape") unconfirm(remove);
    });
    rows.set(message.key, row);
    for (const part of ROW_PARTS) part.build(row, view);
    fill(row, message);
    return row;
  }

  function paint(row) {
    const { data } = row;
    const status = STATUSES.has(data.status) ? data.status : "sent";
    let name = `dcw-msg dcw-status-${status}`;
    if (data.own) name += " dcw-own";
    if (data.edited) name += " dcw-edited";
    if (row.editor) name += " dcw-editing";
    if (data.saving === "edit" || data.saving === "delete") name += ` dcw-saving-${data.saving}`;
    if (row.start) name += " dcw-group-start";
    if (row.dayStart) name += " dcw-day-start";
    row.node.className = name;
  }

  function fill(row, message) {
    const { parts } = row;
    const before = row.data;
    row.data = message;
    row.ms = parseTime(message.time);
    const status = STATUSES.has(message.status) ? message.status : "sent";
    parts.author.textContent = message.author || "Unknown User";
    const [short, full] = formatTime(row.ms);
    parts.time.textContent = short;
    parts.text.dataset.time = short; // a follow-up shows it after its text
    if (message.time) parts.time.setAttribute("datetime", String(message.time));
    else parts.time.removeAttribute("datetime");
    parts.time.title = full;
    const text = message.text == null ? "" : String(message.text);
    showText(row, text, typeof message.html === "string" ? message.html : null);
    if (message.saving === "edit" || message.saving === "delete") {
      parts.stateText.textContent = message.saving === "edit" ? "Saving…" : "Deleting…";
    } else if (status === "pending") {
      parts.stateText.textContent = "Sending…";
    } else if (status === "failed") {
      parts.stateText.textContent = `Not sent: ${message.error || "unknown error"}`;
    } else {
      parts.stateText.textContent = "";
    }
    // Several failed messages may each have a Retry: say which one.
    parts.retry.setAttribute("aria-label", `Retry sending “${snippet(text)}”`);
    parts.discard.setAttribute("aria-label", `Discard “${snippet(text)}”`);
    parts.retry.disabled = false;
    parts.discard.disabled = false;
    // Only the reader's own stored messages, with nothing of theirs on its way.
    const mine = Boolean(message.own) && status === "sent" && !message.saving;
    parts.edit.hidden = !mine;
    parts.remove.hidden = !mine;
    parts.remove.disabled = false;
    unconfirm(parts.remove);
    parts.edited.hidden = !message.edited;
    parts.edit.setAttribute("aria-label", `Edit “${snippet(text)}”`);
    parts.remove.setAttribute("aria-label", `Delete “${snippet(text)}”`);
    if (!mine && row.editor) closeEditor(row, false);
    for (const part of ROW_PARTS) part.fill(row, message, view);
    paint(row);
    if (before && (before.author_id !== message.author_id || before.time !== message.time)) {
      touch(row.node);
    }
  }

  function unconfirm(button) {
    button.classList.remove("dcw-confirm");
    button.textContent = "Delete";
  }

  // -- editing one's own message, inside its bubble --------------------------------

  function openEditor(row) {
    if (row.editor) {
      row.editor.box.focus();
      return;
    }
    const box = element("textarea", "dcw-msg-editor");
    box.value = row.data.text == null ? "" : String(row.data.text);
    box.rows = Math.min(8, box.value.split("\n").length + 1);
    box.dir = "auto";
    box.setAttribute("aria-label", "Edit your message");
    const hint = element("div", "dcw-msg-editor-hint", "Enter to save, Escape to cancel");
    hint.id = `dcw-hint-${newViewId()}`;
    box.setAttribute("aria-describedby", hint.id);
    box.addEventListener("keydown", (event) => {
      if (event.isComposing) return;
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // not JupyterLab's command mode
        closeEditor(row, true);
      } else if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        event.stopPropagation();
        saveEditor(row);
      }
    });
    row.editor = { box, hint };
    row.parts.text.hidden = true;
    row.parts.text.after(box, hint);
    row.node.classList.add("dcw-editing");
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  function saveEditor(row) {
    const { box, hint } = row.editor;
    const text = box.value;
    if (!text.trim()) {
      hint.textContent = "A message cannot be empty: type something, or Escape to cancel";
      hint.classList.add("dcw-msg-editor-error");
      return; // nothing sent, nothing lost
    }
    closeEditor(row, true);
    if (text !== row.data.text) model.send({ type: "edit", key: row.data.key, text });
  }

  function closeEditor(row, refocus) {
    if (!row.editor) return;
    const hadFocus = row.node.contains(document.activeElement);
    row.editor.box.remove();
    row.editor.hint.remove();
    row.editor = null;
    row.parts.text.hidden = false;
    row.node.classList.remove("dcw-editing");
    if (refocus && hadFocus) {
      const back = row.parts.edit.hidden ? scroller : row.parts.edit;
      back.focus({ preventScroll: true });
    }
  }

  // The message's text, or its rendered Markdown: drawn again only when it changed.
  function showText(row, text, html) {
    const shown = html === null ? `t${text}` : `h${html}`;
    if (row.shown === shown) return;
    row.shown = shown;
    const target = row.parts.text;
    target.classList.toggle("dcw-msg-rich", html !== null);
    if (html === null) {
      target.textContent = text;
      return;
    }
    target.innerHTML = html; // sanitized in the kernel: see _sanitize.py
    for (const pre of target.querySelectorAll("pre")) addCopyButton(pre);
    if (target.querySelector(".dcw-math")) withKatex((katex) => typeset(katex, target));
  }

  // Run `use(katex)` once KaTeX is here; the first view to need it asks Python.
  function withKatex(use) {
    const slot = katexSlot();
    if (!slot.asked) {
      slot.asked = true;
      model.send({ type: "katex", view: viewId });
    }
    slot.ready.then((katex) => {
      if (katex) use(katex);
    });
  }

  // -- grouping ------------------------------------------------------------------

  // `node` was placed, moved or changed: it and the node now below it regroup.
  function touch(node) {
    dirty.add(node);
    if (node.nextElementSibling) dirty.add(node.nextElementSibling);
  }

  function regroup(node) {
    const row = rows.get(node.dataset.key);
    if (!row || row.node !== node) return;
    const above = node.previousElementSibling;
    const prev = above ? rows.get(above.dataset.key) : null;
    const dayStart = !prev || dayKey(prev.ms) !== dayKey(row.ms);
    const who = row.data.author_id;
    const pause = prev && prev.ms != null && row.ms != null ? row.ms - prev.ms : 0;
    const start =
      dayStart || who == null || prev.data.author_id !== who || pause > GROUP_GAP_MS;
    const label = dayStart ? dayLabel(row.ms) : "";
    if (row.parts.day.textContent !== label) row.parts.day.textContent = label;
    if (start !== row.start || dayStart !== row.dayStart) {
      row.start = start;
      row.dayStart = dayStart;
      paint(row);
    }
  }

  function regroupDirty() {
    for (const node of dirty) {
      if (node.isConnected) regroup(node);
    }
    dirty.clear();
  }

  // "Today" becomes "Yesterday" at the reader's midnight: relabel then.
  let midnightTimer = null;
  function scheduleMidnight() {
    const now = new Date();
    const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0, 1);
    midnightTimer = setTimeout(
      () => {
        for (const node of items.children) regroup(node);
        scheduleMidnight();
      },
      Math.min(next.getTime() - now.getTime(), DAY_MS),
    );
  }

  // -- placing -----------------------------------------------------------------

  // Returns "placed", "newer" (belongs below a detached window) or "skip".
  function place(message, kind) {
    const existing = rows.get(message.key);
    const next = message.next == null ? null : rows.get(message.next);
    if (existing) {
      fill(existing, message);
      const node = existing.node;
      let target;
      if (next) {
        if (node.nextSibling !== next.node) target = next.node;
      } else if (message.next == null && attached && items.lastChild !== node) {
        target = null;
      }
      if (target !== undefined) {
        if (node.nextElementSibling) dirty.add(node.nextElementSibling); // closes the gap
        items.insertBefore(node, target);
        touch(node);
      }
      return "placed";
    }
    if (next) {
      const node = build(message).node;
      items.insertBefore(node, next.node);
      touch(node);
      return "placed";
    }
    if (message.next == null) {
      if (attached) {
        const node = build(message).node;
        items.append(node);
        touch(node);
        return "placed";
      }
      return "newer";
    }
    // Its neighbour is not shown: it lies outside this view's window.
    if (!attached && (kind === "append" || message.status !== "sent")) return "newer";
    return "skip";
  }

  function removeRow(key) {
    const row = rows.get(key);
    if (!row) return;
    rows.delete(key);
    if (row.node.nextElementSibling) dirty.add(row.node.nextElementSibling);
    dirty.delete(row.node);
    row.node.remove();
  }

  function trim(fromBottom) {
    const limit = Math.max(1, Number(model.get("max_nodes")) || 1);
    while (rows.size > limit) {
      const victim = fromBottom ? items.lastElementChild : items.firstElementChild;
      if (!victim) break;
      removeRow(victim.dataset.key);
      if (fromBottom) attached = false;
    }
  }

  // -- scrolling -----------------------------------------------------------------

  // Zero height: display none somewhere above, or not in the document.
  function measurable() {
    return scroller.clientHeight > 0;
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  // Follow the newest message. A hidden view only notes it: it scrolls when shown.
  function scrollToBottom() {
    if (measurable()) scroller.scrollTop = scroller.scrollHeight;
    follow = true;
    spot = null;
    unseen = 0;
  }

  // A node on screen that this change will not remove: the reader's reference
  // point. Binary search: nodes are in order, so their positions are too.
  function anchorNode(preferBottom) {
    const nodes = items.children;
    if (nodes.length === 0) return null;
    const view = scroller.getBoundingClientRect();
    let low = 0;
    let high = nodes.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (nodes[mid].getBoundingClientRect().bottom <= view.top) low = mid + 1;
      else high = mid;
    }
    if (!preferBottom) return nodes[low];
    high = nodes.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (nodes[mid].getBoundingClientRect().top < view.bottom) low = mid;
      else high = mid - 1;
    }
    return nodes[low];
  }

  // Note where the reader is, for when the view can no longer be measured.
  function remember() {
    if (!measurable()) return;
    follow = nearBottom();
    spot = null;
    if (follow) return;
    const node = anchorNode(false);
    if (node) {
      const offset = node.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
      spot = { key: node.dataset.key, offset };
    }
  }

  // Put the reader back where remember() last saw them.
  function restore() {
    if (follow) {
      scroller.scrollTop = scroller.scrollHeight;
      return;
    }
    const row = spot ? rows.get(spot.key) : null;
    if (!row) return;
    const offset = row.node.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    scroller.scrollTop += offset - spot.offset;
  }

  // Hold `node` still on screen across a change: call the result afterwards.
  function hold(node) {
    if (!node) return () => {};
    const top = node.getBoundingClientRect().top;
    return () => {
      if (node.isConnected) scroller.scrollTop += node.getBoundingClientRect().top - top;
    };
  }

  // -- applying what Python sends ---------------------------------------------------

  function applyMessages(messages, kind) {
    const older = kind === "prepend" || kind === "page";
    const visible = measurable();
    const wasAtBottom = visible ? nearBottom() : follow;
    // Older pages go in above and push out the newest nodes: hold the top
    // visible node still. Otherwise the oldest nodes go: hold the bottom one.
    const settle = visible ? hold(anchorNode(!older)) : () => {};
    let placedNew = 0;
    let ownNew = false;
    let newer = 0;
    // Last first: a message's "next" may be the one after it in this batch.
    for (let i = messages.length - 1; i >= 0; i--) {
      const message = messages[i];
      const known = rows.has(message.key);
      const result = place(message, kind);
      if (result === "newer") newer += 1;
      if (result === "placed" && !known) {
        placedNew += 1;
        if (message.own && message.status === "pending") ownNew = true;
      }
    }
    trim(older);
    regroupDirty();
    if (!older && (ownNew || (wasAtBottom && attached))) {
      scrollToBottom();
      return;
    }
    settle();
    remember();
    if (kind === "append" || kind === "insert") unseen += placedNew + newer;
  }

  function removeMessages(keys) {
    const visible = measurable();
    const wasAtBottom = visible ? nearBottom() : follow;
    let anchor = visible ? anchorNode(false) : null;
    const going = new Set(keys);
    while (anchor && going.has(anchor.dataset.key)) anchor = anchor.nextElementSibling;
    const settle = hold(anchor);
    for (const key of keys) removeRow(key);
    regroupDirty();
    if (wasAtBottom && attached) {
      scrollToBottom();
      return;
    }
    settle();
    remember();
  }

  function reset(messages) {
    rows.clear();
    dirty.clear();
    items.replaceChildren();
    attached = true;
    unseen = 0;
    for (let i = messages.length - 1; i >= 0; i--) {
      const row = build(messages[i]);
      items.insertBefore(row.node, items.firstChild);
    }
    trim(false);
    for (const node of items.children) regroup(node);
    scrollToBottom();
  }

  function updateChrome() {
    const count = rows.size;
    empty.textContent = model.get("empty_text") || "";
    root.classList.toggle("dcw-list-is-empty", count === 0);
    const firstNode = items.firstElementChild;
    const firstKey = firstNode ? firstNode.dataset.key : null;
    const more = count > 0 ? firstKey !== storeFirst || storeOlder : storeOlder;
    olderButton.hidden = !(more || loadingOlder);
    olderButton.disabled = loadingOlder;
    olderButton.textContent = loadingOlder ? "Loading…" : "Load older messages";
    if (unseen > 0) {
      const label = `${unseen} new message${unseen === 1 ? "" : "s"}`;
      markerText.textContent = label;
      marker.setAttribute("aria-label", `Jump to ${label}`);
    } else {
      markerText.textContent = "Jump to latest";
      marker.setAttribute("aria-label", "Jump to latest messages");
    }
    // Scrolled up, or newer messages not drawn: a way back to the latest.
    marker.hidden = attached && unseen === 0 && follow;
    root.style.setProperty("--dcw-list-height", model.get("height") || "360px");
  }

  function onCustom(msg, buffers) {
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
    if (msg.view != null && msg.view !== viewId) return; // another view's answer
    if (msg.type === "katex") {
      installKatex(msg);
      return;
    }
    if (handlers.has(msg.type)) {
      handlers.get(msg.type)(msg, buffers || []);
      return;
    }
    if ("first" in msg) storeFirst = msg.first;
    if ("older" in msg) storeOlder = Boolean(msg.older);
    const messages = Array.isArray(msg.messages) ? msg.messages : [];
    switch (msg.type) {
      case "snapshot":
        loadingOlder = false;
        reset(messages);
        break;
      case "change":
        applyMessages(messages, msg.kind);
        break;
      case "page":
        loadingOlder = false;
        applyMessages(messages, "page");
        break;
      case "remove":
        removeMessages(Array.isArray(msg.keys) ? msg.keys : []);
        break;
      case "older":
        loadingOlder = false;
        break;
      default:
        return;
    }
    updateChrome();
    for (const fn of afterApply) fn(msg);
  }

  // -- reader actions -------------------------------------------------------------

  function onOlder() {
    if (loadingOlder) return;
    loadingOlder = true;
    const firstNode = items.firstElementChild;
    model.send({ type: "load_older", view: viewId, before: firstNode ? firstNode.dataset.key : null });
    updateChrome();
  }

  function onMarker() {
    // The marker is about to vanish: keep keyboard focus in the list.
    if (document.activeElement === marker) scroller.focus({ preventScroll: true });
    if (attached) {
      scrollToBottom();
      updateChrome();
    } else {
      model.send({ type: "snapshot", view: viewId });
    }
  }

  function onScroll() {
    if (!measurable()) return;
    const followed = follow;
    remember();
    caughtUp(followed);
  }

  // Shown again, resized, or its content reflowed: put the reader back.
  function onResize() {
    if (!measurable()) return;
    const followed = follow;
    restore();
    remember();
    caughtUp(followed);
  }

  // Back at the latest: nothing unseen. The marker follows `follow` either way.
  function caughtUp(followed) {
    const caught = unseen > 0 && attached && follow;
    if (caught) unseen = 0;
    if (caught || follow !== followed) updateChrome();
  }

  function onVisibility() {
    if (document.visibilityState === "visible") onResize();
  }

  function onLimit() {
    trim(false);
    regroupDirty();
    updateChrome();
  }

  const resizes = typeof ResizeObserver === "function" ? new ResizeObserver(onResize) : null;
  if (resizes) {
    resizes.observe(scroller);
    resizes.observe(items);
  }
  // A notebook may take the cell out of the page and put it back (windowing);
  // it comes back scrolled to the top, possibly at the same size.
  const sightings =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          if (entries.some((entry) => entry.isIntersecting)) onResize();
        })
      : null;
  if (sightings) sightings.observe(scroller);
  olderButton.addEventListener("click", onOlder);
  marker.addEventListener("click", onMarker);
  scroller.addEventListener("scroll", onScroll, { passive: true });
  document.addEventListener("visibilitychange", onVisibility);
  model.on("msg:custom", onCustom);
  model.on("change:max_nodes", onLimit);
  model.on("change:empty_text", updateChrome);
  model.on("change:height", updateChrome);
  scheduleMidnight();
  const partsDone = ROW_PARTS.map((part) => (part.start ? part.start(view) : null));
  updateChrome();
  // A new view (first render, re-rendered cell, reloaded page) asks for the
  // latest messages; Python answers this view only.
  model.send({ type: "snapshot", view: viewId });

  return () => {
    for (const done of partsDone) if (typeof done === "function") done();
    clearTimeout(midnightTimer);
    if (resizes) resizes.disconnect();
    if (sightings) sightings.disconnect();
    olderButton.removeEventListener("click", onOlder);
    marker.removeEventListener("click", onMarker);
    scroller.removeEventListener("scroll", onScroll);
    document.removeEventListener("visibilitychange", onVisibility);
    model.off("msg:custom", onCustom);
    model.off("change:max_nodes", onLimit);
    model.off("change:empty_text", updateChrome);
    model.off("change:height", updateChrome);
  };
}

export default { render };
