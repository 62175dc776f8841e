// Unread (a row part, see "Row parts" in message_list.js): a line over the
// first unread message, and telling Python what the reader has seen.
//
// Python says where the open room's unread messages start ({type: "unread",
// first, count, fresh}); when the view was just drawn (fresh) it also goes
// there, and the list's marker then offers the jump to the latest. The view
// says {type: "seen", key} with the newest stored message it shows once the
// reader has it in sight for UNREAD_LOOK_MS: this view showing, inside the
// page's viewport, the tab visible, scrolled to the latest. Nothing is said
// while the view is hidden, scrolled up or out of sight, and nothing twice:
// Python moves the read position, and writes it to the server debounced.
// Messages that arrive while the reader is not looking get a line of their
// own over the first of them, once the line above has been read past.

const UNREAD_LOOK_MS = 300;

function unreadLabel(count) {
  if (!(count > 0)) return "New messages";
  return `${count > 99 ? "99+" : count} unread message${count === 1 ? "" : "s"}`;
}

ROW_PARTS.push({
  start(view) {
    // waiting: a new snapshot came (first drawing, another room) and Python has
    // not yet said where its unread messages start: until it does, the view at
    // the bottom says nothing seen, or a slow answer would mark them all read.
    const state = { key: null, label: "", settled: false, waiting: true };
    view.unread = state;
    let inSight = true;
    let timer = null;
    let told = null; // the key last said seen
    const items = view.scroller.querySelector(".dcw-list-items");

    function showLine(row) {
      const line = row.parts.unreadLine;
      line.hidden = state.key !== row.data.key;
      if (!line.hidden) line.firstChild.textContent = state.label;
    }

    function mark(key, label) {
      const old = state.key ? view.rows.get(state.key) : null;
      state.key = key;
      state.label = label;
      state.settled = false;
      if (old) showLine(old);
      const row = key ? view.rows.get(key) : null;
      if (row) showLine(row);
    }

    function looking() {
      return inSight && document.visibilityState === "visible" && view.atLatest();
    }

    function newestStored() {
      for (let node = items.lastElementChild; node; node = node.previousElementSibling) {
        const row = view.rows.get(node.dataset.key);
        if (row && row.data.status === "sent") return row.data.key;
      }
      return null;
    }

    function tell() {
      timer = null;
      if (state.waiting || !looking()) return;
      const key = newestStored();
      if (key === null || key === told) return;
      told = key;
      if (state.key) state.settled = true;
      view.model.send({ type: "seen", view: view.viewId, key });
    }

    function check() {
      if (timer === null && looking()) timer = setTimeout(tell, UNREAD_LOOK_MS);
    }

    // The line at the top of the box, a little room above it.
    function goTo(key) {
      const row = view.rows.get(key);
      if (!row || view.scroller.clientHeight === 0) return;
      const top = row.node.getBoundingClientRect().top;
      view.scroller.scrollTop += top - view.scroller.getBoundingClientRect().top - 8;
      view.scrolled();
    }

    view.handle("unread", (msg) => {
      state.waiting = false;
      if (msg.fresh) {
        told = null;
        mark(msg.first || null, unreadLabel(msg.count));
        if (msg.first) goTo(msg.first);
      }
      check();
    });
    view.handle("jump", () => view.jumpToLatest());

    view.applied((msg) => {
      if (msg.type === "snapshot" && !msg.same) state.waiting = true;
      const added = msg.type === "change" && (msg.kind === "append" || msg.kind === "insert");
      if (added && !looking() && (state.key === null || state.settled)) {
        const first = (msg.messages || []).find(
          (m) => !m.own && m.status === "sent" && view.rows.has(m.key),
        );
        if (first) mark(first.key, "New messages");
      }
      check();
    });

    const sightings =
      typeof IntersectionObserver === "function"
        ? new IntersectionObserver((entries) => {
            inSight = entries.some((entry) => entry.isIntersecting);
            check();
          })
        : null;
    if (sightings) sightings.observe(view.scroller);
    const resizes = typeof ResizeObserver === "function" ? new ResizeObserver(check) : null;
    if (resizes) resizes.observe(view.scroller);
    view.scroller.addEventListener("scroll", check, { passive: true });
    document.addEventListener("visibilitychange", check);
    return () => {
      clearTimeout(timer);
      if (sightings) sightings.disconnect();
      if (resizes) resizes.disconnect();
      view.scroller.removeEventListener("scroll", check);
      document.removeEventListener("visibilitychange", check);
    };
  },

  build(row, view) {
    const line = view.element("div", "dcw-unread-line");
    line.setAttribute("role", "separator");
    line.append(view.element("span", "dcw-unread-text"));
    line.hidden = true;
    row.node.insertBefore(line, row.parts.bubble);
    row.parts.unreadLine = line;
  },

  fill(row, message, view) {
    const state = view.unread;
    const line = row.parts.unreadLine;
    line.hidden = !state || state.key !== message.key;
    if (!line.hidden) line.firstChild.textContent = state.label;
  },
});
