// Row part: replies (appended to message_list.js; see "Row parts" there).
//
// A reply carries "reply": {key, author, text, gone, loading}, the quote of
// the message it answers, drawn above its text. Clicking the quote brings the
// parent into view: at once if this view shows it, else by asking for older
// pages (view.older(), as "Load older" does) until it shows or the history
// ends; it then flashes. A parent that was deleted shows as such, and is not
// a link. Python sends new quotes as {type: "quotes", rows: [{key, reply}]}
// when a parent is edited, deleted or read.
//
// "Reply" (in the message's tools) tells Python {type: "reply_to", key}; the
// next message the composer sends answers it. Python shows the target to
// every view as {type: "replying", reply} (null: none), in a bar under the
// list with a button that cancels ({type: "reply_cancel"}).

const REVEAL_MAX_PAGES = 200; // a bound on the pages one click may ask for
const FLASH_MS = 1600;

function drawQuote(row) {
  const { quote, quoteAuthor, quoteText } = row.parts;
  const reply = row.data.reply;
  quote.hidden = !reply;
  if (!reply) return;
  quote.classList.toggle("dcw-quote-gone", Boolean(reply.gone));
  quote.disabled = Boolean(reply.gone);
  quote.dataset.parent = String(reply.key || "");
  if (reply.gone) {
    quoteAuthor.textContent = "";
    quoteText.textContent = "Original message deleted";
    quote.setAttribute("aria-label", "Reply to a message that was deleted");
  } else {
    quoteAuthor.textContent = reply.loading ? "" : String(reply.author || "");
    quoteText.textContent = reply.loading ? "…" : String(reply.text || "");
    const who = reply.author ? `${reply.author}'s` : "a";
    quote.setAttribute("aria-label", `Reply to ${who} message: ${reply.text || ""}. Show it`);
  }
}

function reveal(view, state, key) {
  const row = view.rows.get(key);
  if (row) {
    state.pending = null;
    row.node.scrollIntoView({ block: "center" });
    row.node.classList.add("dcw-flash");
    setTimeout(() => row.node.classList.remove("dcw-flash"), FLASH_MS);
    return;
  }
  state.pending = { key, pages: 0, first: null };
  askOlder(view, state);
}

function firstKey(view) {
  const node = view.scroller.querySelector(".dcw-msg");
  return node ? node.dataset.key : null;
}

function askOlder(view, state) {
  const pending = state.pending;
  const first = firstKey(view);
  if (pending.pages >= REVEAL_MAX_PAGES || (pending.pages > 0 && first === pending.first)) {
    state.pending = null; // the history ended (or the bound did) without it
    return;
  }
  pending.pages += 1;
  pending.first = first;
  view.older();
}

ROW_PARTS.push({
  start(view) {
    const state = { pending: null };
    view.reveal = (key) => reveal(view, state, key);
    view.applied((msg) => {
      if (!state.pending) return;
      if (view.rows.has(state.pending.key)) reveal(view, state, state.pending.key);
      else if (msg.type === "page" || msg.type === "older") askOlder(view, state);
    });
    view.handle("quotes", (msg) => {
      for (const update of Array.isArray(msg.rows) ? msg.rows : []) {
        const row = view.rows.get(update.key);
        if (!row || !row.data) continue;
        row.data = { ...row.data, reply: update.reply };
        drawQuote(row);
      }
    });
    // Under the list, above the composer: what the next message answers.
    const bar = view.element("div", "dcw-replying");
    bar.hidden = true;
    bar.setAttribute("aria-live", "polite");
    const label = view.element("span", "dcw-replying-text");
    const cancel = view.element("button", "dcw-replying-cancel", "×");
    cancel.type = "button";
    cancel.setAttribute("aria-label", "Cancel the reply");
    cancel.addEventListener("click", () => view.model.send({ type: "reply_cancel" }));
    bar.append(label, cancel);
    view.scroller.after(bar);
    view.handle("replying", (msg) => {
      const reply = msg.reply;
      bar.hidden = !reply;
      label.textContent = reply ? `Replying to ${reply.author || "a message"}: ${reply.text || ""}` : "";
    });
  },

  build(row, view) {
    const quote = view.element("button", "dcw-quote");
    quote.type = "button";
    const quoteAuthor = view.element("span", "dcw-quote-author");
    const quoteText = view.element("span", "dcw-quote-text");
    quoteText.dir = "auto";
    quote.append(quoteAuthor, quoteText);
    quote.hidden = true;
    quote.setAttribute("aria-label", "Show the message replied to");
    quote.addEventListener("click", () => {
      const key = quote.dataset.parent;
      if (key && view.reveal) view.reveal(key);
    });
    row.parts.text.before(quote);
    const replyButton = view.element("button", "dcw-reply", "Reply");
    replyButton.type = "button";
    replyButton.addEventListener("click", () => {
      view.model.send({ type: "reply_to", key: row.data.key });
    });
    view.tools(row).prepend(replyButton);
    Object.assign(row.parts, { quote, quoteAuthor, quoteText, replyButton });
  },

  fill(row, message, view) {
    row.parts.replyButton.hidden = message.status !== "sent";
    row.parts.replyButton.setAttribute("aria-label", `Reply to “${view.snippet(message.text)}”`);
    drawQuote(row);
  },
});
