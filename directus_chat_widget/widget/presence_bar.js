// PresenceBar view: "Ada is typing…" on the left, "2 online: Ada, Grace (you)" on
// the right. The typing line is a polite live region: a screen reader hears who
// starts typing, not every refresh. Names are set as text, never as markup.

const SHOWN_NAMES = 4; // more go into "+N" (all of them are in the tooltip)

function render({ model, el }) {
  const bar = document.createElement("div");
  bar.className = "dcw-presence";

  const typing = document.createElement("span");
  typing.className = "dcw-presence-typing";
  typing.setAttribute("aria-live", "polite");

  const online = document.createElement("span");
  online.className = "dcw-presence-online";

  bar.append(typing, online);
  el.append(bar);

  function sync() {
    const names = model.get("online") || [];
    bar.hidden = !model.get("active");
    typing.textContent = model.get("typing") || "";
    if (!names.length) {
      online.textContent = "";
      online.removeAttribute("title");
      return;
    }
    const shown = names.slice(0, SHOWN_NAMES).join(", ");
    const more = names.length > SHOWN_NAMES ? ` +${names.length - SHOWN_NAMES}` : "";
    online.textContent = `${names.length} online: ${shown}${more}`;
    online.title = names.join("\n");
  }

  sync();
  model.on("change:online", sync);
  model.on("change:typing", sync);
  model.on("change:active", sync);
  return () => {
    model.off("change:online", sync);
    model.off("change:typing", sync);
    model.off("change:active", sync);
  };
}

export default { render };
