// Row part: emoji reactions (appended to message_list.js; see "Row parts" there).
//
// Under each sent message, one chip per emoji: "👍 2", pressed when one of
// them is the reader's, with who reacted in its tooltip and label. Clicking a
// chip toggles the reader's own; "Add reaction" (in the message's tools,
// shown on hover and keyboard focus) opens a small palette. Every click goes
// to Python as {type: "react", key, emoji}: the kernel checks it and the
// server decides, and the chips change when the server's answer comes back
// (to every view alike) as {type: "reactions", rows: [{key, reactions}]}.
// A message's reactions on the wire: [{emoji, count, mine, who}], who being
// the names, comma-separated. All text is set with textContent.

const REACTION_PALETTE = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

function drawReactions(row, view) {
  const { chips } = row.parts;
  const list = Array.isArray(row.data.reactions) ? row.data.reactions : [];
  chips.replaceChildren();
  chips.hidden = list.length === 0;
  for (const reaction of list) {
    const emoji = String(reaction.emoji || "");
    const count = Number(reaction.count) || 0;
    const chip = view.element("button", "dcw-reaction");
    chip.type = "button";
    chip.dataset.emoji = emoji;
    chip.append(view.element("span", "dcw-reaction-emoji", emoji));
    chip.append(view.element("span", "dcw-reaction-count", String(count)));
    chip.setAttribute("aria-pressed", reaction.mine ? "true" : "false");
    const who = String(reaction.who || "");
    chip.title = `${who} reacted with ${emoji}`;
    const take = reaction.mine ? "take back yours" : "add yours";
    chip.setAttribute("aria-label", `${emoji} ${count}: ${who}. Click to ${take}`);
    chip.addEventListener("click", () => {
      view.model.send({ type: "react", key: row.data.key, emoji });
    });
    chips.append(chip);
  }
}

function closePalette(row) {
  row.parts.palette.hidden = true;
  row.parts.reactButton.setAttribute("aria-expanded", "false");
}

ROW_PARTS.push({
  start(view) {
    view.handle("reactions", (msg) => {
      for (const update of Array.isArray(msg.rows) ? msg.rows : []) {
        const row = view.rows.get(update.key);
        if (!row || !row.data) continue;
        row.data = { ...row.data, reactions: update.reactions };
        drawReactions(row, view);
      }
    });
  },

  build(row, view) {
    const chips = view.element("div", "dcw-reactions");
    chips.setAttribute("role", "group");
    chips.setAttribute("aria-label", "Reactions");
    row.parts.foot.before(chips);
    const tools = view.tools(row);
    const reactButton = view.element("button", "dcw-react", "☺+");
    reactButton.type = "button";
    reactButton.setAttribute("aria-label", "Add reaction");
    reactButton.setAttribute("aria-haspopup", "true");
    reactButton.setAttribute("aria-expanded", "false");
    const palette = view.element("div", "dcw-palette");
    palette.setAttribute("role", "group");
    palette.setAttribute("aria-label", "Pick a reaction");
    palette.hidden = true;
    for (const emoji of REACTION_PALETTE) {
      const pick = view.element("button", "dcw-palette-pick", emoji);
      pick.type = "button";
      pick.setAttribute("aria-label", `React with ${emoji}`);
      pick.addEventListener("click", () => {
        closePalette(row);
        view.model.send({ type: "react", key: row.data.key, emoji });
      });
      palette.append(pick);
    }
    palette.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        closePalette(row);
        reactButton.focus();
      }
    });
    reactButton.addEventListener("click", () => {
      const open = palette.hidden;
      palette.hidden = !open;
      reactButton.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) palette.firstElementChild.focus();
    });
    row.node.addEventListener("mouseleave", () => closePalette(row));
    tools.append(reactButton, palette);
    Object.assign(row.parts, { chips, reactButton, palette });
  },

  fill(row, message, view) {
    row.parts.reactButton.hidden = message.status !== "sent";
    if (message.status !== "sent") closePalette(row);
    drawReactions(row, view);
  },
});
