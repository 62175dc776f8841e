// MessageList view: renders the chat incrementally from custom messages.
//
// Python sends only what changed; each message names the key of the message
// after it ("next"), so a view places it without knowing the whole list. A
// view keeps at most `max_nodes` message nodes: appends drop the oldest nodes,
// an older page drops the newest (the view is then "detached" from the latest
// message until the reader jumps back). Every text is set with textContent.

const STATUSES = new Set(["sent", "pending", "failed"]);
const NEAR_BOTTOM_PX = 48;

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

function formatTime(iso) {
  if (!iso) return ["", ""];
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return ["", ""];
  const short = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return [short, date.toLocaleString()];
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const viewId = newViewId();

  const root = element("div", "dcw-list");
  const scroller = element("div", "dcw-list-scroller");
  const olderButton = element("button", "dcw-list-older", "Load older messages");
  olderButton.type = "button";
  const items = element("div", "dcw-list-items");
  items.setAttribute("role", "log");
  items.setAttribute("aria-live", "polite");
  const empty = element("div", "dcw-list-empty");
  const marker = element("button", "dcw-list-new", "New messages ↓");
  marker.type = "button";
  scroller.append(olderButton, items, empty);
  root.append(scroller, marker);
  el.append(root);

  const rows = new Map(); // key -> {node, parts, data}
  let attached = true; // the last node is the newest message Python holds
  let unseen = 0; // new messages below the reader's position (or not rendered)
  let loadingOlder = false;
  let storeFirst = null;
  let storeOlder = false;

  // -- rendering one message ---------------------------------------------------

  function build(message) {
    const node = element("div", "dcw-msg");
    node.dataset.key = message.key;
    const meta = element("div", "dcw-msg-meta");
    const author = element("span", "dcw-msg-author");
    const time = element("time", "dcw-msg-time");
    meta.append(author, time);
    const text = element("div", "dcw-msg-text");
    const state = element("div", "dcw-msg-state");
    const stateText = element("span", "dcw-msg-state-text");
    const retry = element("button", "dcw-msg-retry", "Retry");
    retry.type = "button";
    const discard = element("button", "dcw-msg-discard", "Discard");
    discard.type = "button";
    state.append(stateText, retry, discard);
    node.append(meta, text, state);
    retry.addEventListener("click", () => {
      retry.disabled = true;
      model.send({ type: "retry", key: message.key });
    });
    discard.addEventListener("click", () => {
      discard.disabled = true;
      model.send({ type: "discard", key: message.key });
    });
    const row = { node, parts: { author, time, text, stateText, retry, discard }, data: null };
    rows.set(message.key, row);
    fill(row, message);
    return row;
  }

  function fill(row, message) {
    const { node, parts } = row;
    const status = STATUSES.has(message.status) ? message.status : "sent";
    node.className = `dcw-msg dcw-status-${status}${message.own ? " dcw-own" : ""}`;
    parts.author.textContent = message.author || "Unknown User";
    const [short, full] = formatTime(message.time);
    parts.time.textContent = short;
    if (message.time) parts.time.setAttribute("datetime", String(message.time));
    parts.time.title = full;
    parts.text.textContent = message.text == null ? "" : String(message.text);
    if (status === "pending") {
      parts.stateText.textContent = "Sending…";
    } else if (status === "failed") {
      parts.stateText.textContent = `Not sent: ${message.error || "unknown error"}`;
    } else {
      parts.stateText.textContent = "";
    }
    parts.retry.disabled = false;
    parts.discard.disabled = false;
    row.data = message;
  }

  // -- placing -----------------------------------------------------------------

  // Returns "placed", "newer" (belongs below a detached window) or "skip".
  function place(message, kind) {
    const existing = rows.get(message.key);
    const next = message.next == null ? null : rows.get(message.next);
    if (existing) {
      fill(existing, message);
      if (next) {
        if (existing.node.nextSibling !== next.node) items.insertBefore(existing.node, next.node);
      } else if (message.next == null && attached && items.lastChild !== existing.node) {
        items.append(existing.node);
      }
      return "placed";
    }
    if (next) {
      items.insertBefore(build(message).node, next.node);
      return "placed";
    }
    if (message.next == null) {
      if (attached) {
        items.append(build(message).node);
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

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    unseen = 0;
  }

  // -- applying what Python sends ---------------------------------------------------

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

  function applyMessages(messages, kind) {
    const older = kind === "prepend" || kind === "page";
    const wasNearBottom = nearBottom();
    // Older pages go in above and push out the newest nodes: hold the top
    // visible node still. Otherwise the oldest nodes go: hold the bottom one.
    const anchor = anchorNode(!older);
    const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
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
    if (!older && (ownNew || (wasNearBottom && attached))) {
      scrollToBottom();
      return;
    }
    if (anchor && anchor.isConnected) {
      scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    }
    if (kind === "append" || kind === "insert") unseen += placedNew + newer;
  }

  function reset(messages) {
    rows.clear();
    items.replaceChildren();
    attached = true;
    unseen = 0;
    for (let i = messages.length - 1; i >= 0; i--) {
      const row = build(messages[i]);
      items.insertBefore(row.node, items.firstChild);
    }
    trim(false);
    scrollToBottom();
  }

  function updateChrome() {
    const count = rows.size;
    empty.textContent = model.get("empty_text") || "";
    empty.style.display = count === 0 ? "" : "none";
    const firstNode = items.firstElementChild;
    const firstKey = firstNode ? firstNode.dataset.key : null;
    const more = count > 0 ? firstKey !== storeFirst || storeOlder : storeOlder;
    olderButton.style.display = more || loadingOlder ? "" : "none";
    olderButton.disabled = loadingOlder;
    olderButton.textContent = loadingOlder ? "Loading…" : "Load older messages";
    if (!attached) {
      marker.textContent = unseen > 0 ? `New messages (${unseen}) ↓` : "Jump to latest ↓";
      marker.style.display = "";
    } else {
      marker.textContent = "New messages ↓";
      marker.style.display = unseen > 0 ? "" : "none";
    }
    root.style.setProperty("--dcw-list-height", model.get("height") || "360px");
  }

  function onCustom(msg) {
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
    if (msg.view != null && msg.view !== viewId) return; // another view's answer
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
        for (const key of Array.isArray(msg.keys) ? msg.keys : []) removeRow(key);
        break;
      case "older":
        loadingOlder = false;
        break;
      default:
        return;
    }
    updateChrome();
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
    if (attached) {
      scrollToBottom();
      updateChrome();
    } else {
      model.send({ type: "snapshot", view: viewId });
    }
  }

  function onScroll() {
    if (unseen > 0 && attached && nearBottom()) {
      unseen = 0;
      updateChrome();
    }
  }

  function onLimit() {
    trim(false);
    updateChrome();
  }

  olderButton.addEventListener("click", onOlder);
  marker.addEventListener("click", onMarker);
  scroller.addEventListener("scroll", onScroll, { passive: true });
  model.on("msg:custom", onCustom);
  model.on("change:max_nodes", onLimit);
  model.on("change:empty_text", updateChrome);
  model.on("change:height", updateChrome);
  updateChrome();
  // A new view (first render, re-rendered cell, reloaded page) asks for the
  // latest messages; Python answers this view only.
  model.send({ type: "snapshot", view: viewId });

  return () => {
    olderButton.removeEventListener("click", onOlder);
    marker.removeEventListener("click", onMarker);
    scroller.removeEventListener("scroll", onScroll);
    model.off("msg:custom", onCustom);
    model.off("change:max_nodes", onLimit);
    model.off("change:empty_text", updateChrome);
    model.off("change:height", updateChrome);
  };
}

export default { render };
