// RoomBar view: a labelled text box whose suggestions are the rooms (a native
// datalist, filtered by the browser as one types), Open and New room buttons,
// and a line that says what went wrong. The name travels in the custom message.
//
// Unread: the other rooms with unread messages, as buttons that open them
// (most urgent first: unread mentions of the reader, then counts; a few, then
// "+N more"), a badge with the unread mentions, and a notification for a new
// mention where the page may show one. Permission is asked only when the
// reader clicks "Notify me of mentions", never unprompted.

let counter = 0;
const UNREAD_SHOWN = 6;

function countText(count) {
  return count > 99 ? "99+" : String(count);
}

function notifications() {
  return typeof Notification === "function" ? Notification : null;
}

function render({ model, el }) {
  const id = `dcw-rooms-${++counter}`;
  const form = document.createElement("form");
  form.className = "dcw-rooms";
  form.setAttribute("autocomplete", "off");
  form.setAttribute("data-lm-suppress-shortcuts", "true");

  const label = document.createElement("label");
  label.className = "dcw-rooms-label";
  label.htmlFor = `${id}-input`;
  label.textContent = "Room";

  const input = document.createElement("input");
  input.id = `${id}-input`;
  input.className = "dcw-rooms-input";
  input.setAttribute("list", `${id}-list`);
  input.setAttribute("placeholder", "Type to find a room");

  const list = document.createElement("datalist");
  list.id = `${id}-list`;

  const open = document.createElement("button");
  open.type = "submit";
  open.className = "dcw-rooms-open";
  open.textContent = "Open";

  const create = document.createElement("button");
  create.type = "button";
  create.className = "dcw-rooms-create";
  create.textContent = "New room";

  const error = document.createElement("div");
  error.className = "dcw-rooms-error";
  error.setAttribute("role", "alert");

  const unread = document.createElement("div");
  unread.className = "dcw-rooms-unread";
  const badge = document.createElement("span");
  badge.className = "dcw-rooms-mentions";
  badge.setAttribute("role", "status");
  const chips = document.createElement("span");
  chips.className = "dcw-rooms-chips";
  const notify = document.createElement("button");
  notify.type = "button";
  notify.className = "dcw-rooms-notify";
  notify.textContent = "Notify me of mentions";
  unread.append(badge, chips, notify);

  form.append(label, input, list, open, create, error, unread);
  el.append(form);

  function ask(type) {
    const name = input.value.trim();
    if (!name) {
      error.textContent = "Type a room's name first.";
      return;
    }
    model.send({ type, name });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask("open");
  });
  create.addEventListener("click", () => ask("create"));
  // The room shown is selected on focus: typing replaces it, and the whole list
  // of suggestions (not only the current room's) is filtered by what is typed.
  input.addEventListener("focus", () => input.select());

  function showRooms() {
    const counts = model.get("unread") || {};
    const options = (model.get("rooms") || []).map((name) => {
      const option = document.createElement("option");
      option.value = name;
      if (counts[name] > 0) option.label = `${countText(counts[name])} unread`;
      return option;
    });
    list.replaceChildren(...options);
  }

  function showUnread() {
    const counts = model.get("unread") || {};
    const mentions = model.get("mentions") || {};
    const current = model.get("current") || "";
    const total = Object.values(mentions).reduce((sum, n) => sum + (n > 0 ? n : 0), 0);
    badge.hidden = total === 0;
    badge.textContent = `@ ${countText(total)}`;
    badge.title = `${total} unread mention${total === 1 ? "" : "s"} of you`;
    badge.setAttribute("aria-label", badge.title);
    const rooms = Object.keys(counts)
      .filter((name) => name !== current && counts[name] > 0)
      .sort(
        (a, b) =>
          (mentions[b] || 0) - (mentions[a] || 0) || counts[b] - counts[a] || a.localeCompare(b),
      );
    const buttons = rooms.slice(0, UNREAD_SHOWN).map((name) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "dcw-rooms-chip";
      button.dataset.room = name;
      const title = document.createElement("span");
      title.className = "dcw-rooms-chip-name";
      title.textContent = name;
      const count = document.createElement("span");
      count.className = "dcw-rooms-chip-count";
      count.textContent = countText(counts[name]);
      button.append(title, count);
      let said = `${counts[name]} unread`;
      if (mentions[name] > 0) {
        button.classList.add("dcw-rooms-chip-mentioned");
        count.textContent += " @";
        said += `, ${mentions[name]} mentioning you`;
      }
      button.setAttribute("aria-label", `Open ${name}: ${said}`);
      button.addEventListener("click", () => model.send({ type: "open", name }));
      return button;
    });
    if (rooms.length > UNREAD_SHOWN) {
      const more = document.createElement("span");
      more.className = "dcw-rooms-more";
      more.textContent = `+${rooms.length - UNREAD_SHOWN} more`;
      buttons.push(more);
    }
    chips.replaceChildren(...buttons);
    const asking = notifications();
    notify.hidden = !asking || asking.permission !== "default";
    unread.hidden = badge.hidden && !buttons.length && notify.hidden;
  }

  // Asked only here, on the reader's click.
  notify.addEventListener("click", () => {
    const asking = notifications();
    if (!asking) return;
    Promise.resolve(asking.requestPermission()).then(showUnread, showUnread);
  });

  function onCustom(msg) {
    if (!msg || msg.type !== "mention") return;
    const asking = notifications();
    if (!asking || asking.permission !== "granted") return;
    // Not while the reader is looking at that very room.
    const looking = document.visibilityState === "visible" && document.hasFocus();
    if (msg.current && looking) return;
    const where = msg.room ? ` in ${msg.room}` : "";
    try {
      new asking(`${msg.author || "Someone"} mentioned you${where}`, {
        body: String(msg.text || ""),
        tag: `dcw-${msg.key}`, // two views of one chat: one notification
      });
    } catch (_) {
      // Some browsers allow notifications only from a service worker: nothing to show.
    }
  }

  function sync() {
    const busy = Boolean(model.get("busy"));
    open.disabled = busy;
    create.disabled = busy;
    form.setAttribute("aria-busy", String(busy));
    error.textContent = model.get("error") || "";
  }

  // Only a new room replaces what is typed: a refused name stays to be fixed.
  function showCurrent() {
    input.value = model.get("current") || "";
  }

  function onCounts() {
    showRooms();
    showUnread();
  }

  function onCurrent() {
    showCurrent();
    showUnread();
  }

  showRooms();
  showCurrent();
  showUnread();
  sync();
  model.on("change:rooms", showRooms);
  model.on("change:current", onCurrent);
  model.on("change:busy", sync);
  model.on("change:error", sync);
  model.on("change:unread", onCounts);
  model.on("change:mentions", showUnread);
  model.on("msg:custom", onCustom);
  return () => {
    model.off("change:rooms", showRooms);
    model.off("change:current", onCurrent);
    model.off("change:busy", sync);
    model.off("change:error", sync);
    model.off("change:unread", onCounts);
    model.off("change:mentions", showUnread);
    model.off("msg:custom", onCustom);
  };
}

export default { render };
