// Mentions (a row part, see "Row parts" in message_list.js): each "@Name" a
// message holds is highlighted, and a mention of the reader stands out.
//
// Python found the mentions (message.mentions: [{name, me}], by the rules of
// chat/mentions.py); this part only finds those names in the text drawn, and
// wraps each in a span it makes itself. It reads and writes text nodes alone
// (no HTML is parsed here), leaves code, links and math alone, and undoes its
// spans before drawing them again, so it opens no hole in what _sanitize.py
// let through. A name Python did not resolve is never highlighted.

const MENTION_SKIP = "code, pre, a, .dcw-math, .katex";
const MENTION_WORD = /[\p{L}\p{N}_]/u;

function unwrapMentions(target) {
  const spans = target.querySelectorAll("span.dcw-mention");
  for (const span of spans) span.replaceWith(document.createTextNode(span.textContent));
  if (spans.length) target.normalize();
}

// Where "@name" (any case) stands alone in `text`: [start, end, me] for each.
function mentionSpans(text, mentions) {
  const lower = text.toLowerCase();
  const found = [];
  // Longest first: "@Ada Lovelace" is not "@Ada" followed by text.
  const sorted = [...mentions].sort((a, b) => b.name.length - a.name.length);
  for (const { name, me } of sorted) {
    const wanted = `@${name}`.toLowerCase();
    for (let at = lower.indexOf(wanted); at !== -1; at = lower.indexOf(wanted, at + 1)) {
      const end = at + wanted.length;
      const before = at > 0 ? text[at - 1] : "";
      const after = end < text.length ? text[end] : "";
      if ((before && (MENTION_WORD.test(before) || before === "@")) || MENTION_WORD.test(after)) {
        continue;
      }
      if (found.some(([start, stop]) => at < stop && end > start)) continue;
      found.push([at, end, Boolean(me)]);
    }
  }
  return found.sort((a, b) => a[0] - b[0]);
}

function highlightMentions(target, mentions) {
  const walker = document.createTreeWalker(target, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement && node.parentElement.closest(MENTION_SKIP)
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT,
  });
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  for (const node of nodes) {
    const spans = mentionSpans(node.data, mentions);
    // Last first: splitting at the end keeps the earlier offsets right.
    for (let i = spans.length - 1; i >= 0; i--) {
      const [start, end, me] = spans[i];
      const tail = node.splitText(start);
      tail.splitText(end - start);
      const span = document.createElement("span");
      span.className = me ? "dcw-mention dcw-mention-me" : "dcw-mention";
      span.textContent = tail.data;
      tail.replaceWith(span);
    }
  }
}

ROW_PARTS.push({
  build() {},

  fill(row, message) {
    const mentions = Array.isArray(message.mentions)
      ? message.mentions.filter((m) => m && typeof m.name === "string" && m.name)
      : [];
    const target = row.parts.text;
    const wanted = mentions.map((m) => `${m.me ? 1 : 0}${m.name}`).join("\n");
    const drawn = target.querySelector("span.dcw-mention") !== null;
    // The text is drawn again only when it changed; then the spans are gone too.
    if (row.mentioned === wanted && (drawn || !mentions.length)) return;
    unwrapMentions(target);
    if (mentions.length) highlightMentions(target, mentions);
    row.mentioned = wanted;
    row.parts.bubble.classList.toggle(
      "dcw-mentions-me",
      mentions.some((m) => m.me),
    );
  },
});
