// Mentions' autocompletion (a part of the composer, see "Parts" in message_form.js).
//
// Typing "@" and the start of a name offers the chat's members whose name (or
// one of its words) starts so: ArrowUp/ArrowDown pick, Enter or Tab writes
// "@Full Name ", Escape closes, a click picks too. The names are the model's
// `people`, which Python fills from the members the user may see: nothing
// else of them, never a token. Each suggestion is set as text.

const MENTION_MOST = 8;
// "@" where a mention may start (not in "ada@example.com"), then what is typed.
const MENTION_TYPED = /(?:^|[^\p{L}\p{N}_@])@([^\s@][^\n@]{0,39})?$/u;
let mentionLists = 0;

FORM_PARTS.push(({ model, form, input }) => {
  const id = `dcw-mentions-${++mentionLists}`;
  const list = document.createElement("ul");
  list.className = "dcw-mention-list";
  list.id = id;
  list.hidden = true;
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "People to mention");
  form.append(list);
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", id);
  input.setAttribute("aria-expanded", "false");

  let shown = []; // the names offered
  let active = 0;
  let at = -1; // where the "@" being completed is
  let dismissed = false; // Escape: closed until the text changes

  function typed() {
    if (input.selectionStart !== input.selectionEnd) return null;
    const before = input.value.slice(0, input.selectionStart);
    const found = MENTION_TYPED.exec(before);
    if (!found) return null;
    return { at: before.length - (found[1] || "").length - 1, text: (found[1] || "").toLowerCase() };
  }

  function matches(text) {
    const people = Array.isArray(model.get("people")) ? model.get("people") : [];
    const whole = [];
    const word = [];
    for (const name of people) {
      const lower = String(name).toLowerCase();
      if (lower.startsWith(text)) whole.push(name);
      else if (!text.includes(" ") && lower.split(/\s+/).some((part) => part.startsWith(text))) {
        word.push(name);
      }
    }
    return [...whole, ...word].slice(0, MENTION_MOST);
  }

  function close() {
    shown = [];
    at = -1;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function paint() {
    list.querySelectorAll("[role=option]").forEach((option, index) => {
      const on = index === active;
      option.setAttribute("aria-selected", String(on));
      option.classList.toggle("dcw-mention-active", on);
      if (on) input.setAttribute("aria-activedescendant", option.id);
    });
  }

  function update() {
    const now = document.activeElement === input && !dismissed ? typed() : null;
    const names = now ? matches(now.text) : [];
    if (!names.length) {
      close();
      return;
    }
    const same = at === now.at && names.join("\n") === shown.join("\n");
    at = now.at;
    if (same) return;
    shown = names;
    active = 0;
    list.replaceChildren(
      ...names.map((name, index) => {
        const option = document.createElement("li");
        option.id = `${id}-${index}`;
        option.className = "dcw-mention-option";
        option.setAttribute("role", "option");
        option.textContent = name;
        return option;
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    paint();
  }

  function pick(index) {
    const name = shown[index];
    const now = typed();
    if (name === undefined || !now) return;
    const end = input.selectionStart;
    const written = `@${name} `;
    input.value = input.value.slice(0, now.at) + written + input.value.slice(end);
    const caret = now.at + written.length;
    input.setSelectionRange(caret, caret);
    close();
    input.dispatchEvent(new Event("input", { bubbles: true })); // the box grows and counts
  }

  function onKey(event) {
    if (list.hidden || event.isComposing) return;
    let handled = true;
    if (event.key === "ArrowDown") active = (active + 1) % shown.length;
    else if (event.key === "ArrowUp") active = (active - 1 + shown.length) % shown.length;
    else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey) pick(active);
    else if (event.key === "Escape") {
      dismissed = true;
      close();
    }
    else handled = false;
    if (!handled) return;
    // Not a send, not JupyterLab's shortcut: the key was the list's.
    event.preventDefault();
    event.stopPropagation();
    event.stopImmediatePropagation();
    paint();
  }

  function onPointer(event) {
    const option = event.target.closest && event.target.closest("[role=option]");
    event.preventDefault(); // the box keeps the focus
    if (option) pick(shown.indexOf(option.textContent));
  }

  const onCaret = () => update();
  const onText = () => {
    dismissed = false;
    update();
  };
  input.addEventListener("keydown", onKey);
  input.addEventListener("input", onText);
  input.addEventListener("click", onCaret);
  input.addEventListener("keyup", onCaret);
  input.addEventListener("blur", close);
  list.addEventListener("mousedown", onPointer);
  model.on("change:people", onCaret);

  return () => {
    input.removeEventListener("keydown", onKey);
    input.removeEventListener("input", onText);
    input.removeEventListener("click", onCaret);
    input.removeEventListener("keyup", onCaret);
    input.removeEventListener("blur", close);
    list.removeEventListener("mousedown", onPointer);
    model.off("change:people", onCaret);
    list.remove();
  };
});
