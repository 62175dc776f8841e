// MessageForm view: the composer. A text area that grows with what is typed,
// Enter sends, Shift+Enter starts a new line, pasted line breaks stay.
//
// The text travels inside the custom message ({type: "submit", text}), not as a
// synced trait: a send could otherwise reach the kernel before the last
// keystrokes (ipywidgets buffers state updates while one is in flight, but not
// custom messages).
//
// The box is disabled only while nobody is logged in. While the session
// reconnects it stays usable (sends are held, not lost): disabling it, even
// for a moment, would drop the focus and send the reader's next keystrokes to
// JupyterLab as shortcuts.
//
// Parts: a feature of the composer (the mentions' autocompletion) lives in a
// file of its own, message_form.<feature>.js, appended to this module. At load
// it registers FORM_PARTS.push(({ model, form, input }) => cleanup). Parts
// start before the composer's own listeners, so a part's keydown handler runs
// first and may keep a key (Enter picking a suggestion) from sending.

const MAX_ROWS = 8;
// Typing is told to the kernel at most this often (it writes far less often).
const TYPING_EVERY_MS = 1000;
const FORM_PARTS = [];

function render({ model, el }) {
  const form = document.createElement("form");
  form.className = "dcw-form";
  form.setAttribute("autocomplete", "off");
  // Lumino (JupyterLab) leaves keys typed in here to the form.
  form.setAttribute("data-lm-suppress-shortcuts", "true");

  const input = document.createElement("textarea");
  input.className = "dcw-form-input";
  input.rows = 1;
  input.dir = "auto";
  input.setAttribute("aria-label", "Message");
  input.setAttribute("enterkeyhint", "send");

  const button = document.createElement("button");
  button.type = "submit";
  button.className = "dcw-form-send";
  button.textContent = "Send";

  const hint = document.createElement("div");
  hint.className = "dcw-form-hint";
  hint.setAttribute("aria-live", "polite");

  form.append(input, button, hint);
  el.append(form);

  function limit() {
    const value = Number(model.get("max_length"));
    return value > 0 ? value : Infinity;
  }

  // Count as Python does: code points, after trimming.
  function length(text) {
    return [...text.trim()].length;
  }

  function grow() {
    input.style.height = "auto";
    const style = getComputedStyle(input);
    const line = parseFloat(style.lineHeight) || 18;
    const chrome = input.offsetHeight - input.clientHeight;
    const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    const most = line * MAX_ROWS + padding + chrome;
    input.style.height = `${Math.min(input.scrollHeight + chrome, most)}px`;
    input.style.overflowY = input.scrollHeight + chrome > most ? "auto" : "hidden";
  }

  function showCount() {
    const count = length(input.value);
    const most = limit();
    const over = count > most;
    form.classList.toggle("dcw-form-over", over);
    if (over) {
      hint.textContent = `Too long: ${count} of ${most} characters. Shorten it to send.`;
    } else if (count >= most * 0.9) {
      hint.textContent = `${count} / ${most}`;
    } else {
      hint.textContent = "";
    }
    button.disabled = Boolean(model.get("disabled")) || over;
  }

  function sync() {
    const disabled = Boolean(model.get("disabled"));
    input.disabled = disabled;
    input.placeholder = model.get("placeholder") || "";
    showCount();
  }

  // "typing" while there is text, at most once a second; "stopped" once, when emptied.
  let typingToldAt = 0;
  function tellTyping() {
    const active = input.value.trim() !== "";
    const now = Date.now();
    if (active ? now - typingToldAt < TYPING_EVERY_MS : typingToldAt === 0) return;
    typingToldAt = active ? now : 0;
    model.send({ type: "typing", active });
  }

  function send() {
    if (model.get("disabled")) return;
    const text = input.value;
    if (!text.trim()) return; // blank: nothing to send, keep the focus
    if (length(text) > limit()) {
      showCount(); // refused with a reason, never cut
      return;
    }
    model.send({ type: "submit", text });
    typingToldAt = 0; // the send ends the typing; the next key says so again
    input.value = "";
    grow();
    showCount();
    input.focus();
  }

  function onSubmit(event) {
    event.preventDefault();
    send();
  }

  function onKey(event) {
    event.stopPropagation(); // keys typed here are the form's, not JupyterLab's
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function onInput() {
    grow();
    showCount();
    tellTyping();
  }

  let wasDisabled = Boolean(model.get("disabled"));
  function onDisabled() {
    sync();
    const disabled = Boolean(model.get("disabled"));
    // Just logged in: the reader's next keys belong here.
    if (wasDisabled && !disabled && el.isConnected) input.focus();
    wasDisabled = disabled;
  }

  const partsDone = FORM_PARTS.map((part) => part({ model, form, input }));
  form.addEventListener("submit", onSubmit);
  input.addEventListener("keydown", onKey);
  input.addEventListener("input", onInput);
  model.on("change:disabled", onDisabled);
  model.on("change:placeholder", sync);
  model.on("change:max_length", sync);
  sync();
  requestAnimationFrame(grow);

  return () => {
    for (const done of partsDone) if (typeof done === "function") done();
    form.removeEventListener("submit", onSubmit);
    input.removeEventListener("keydown", onKey);
    input.removeEventListener("input", onInput);
    model.off("change:disabled", onDisabled);
    model.off("change:placeholder", sync);
    model.off("change:max_length", sync);
  };
}

export default { render };
