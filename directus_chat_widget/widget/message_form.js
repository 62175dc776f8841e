// MessageForm view: a text box and a Send button.
//
// The text travels inside the custom message ({type: "submit", text}), not as a
// synced trait: a click or Enter sent as its own message could otherwise reach
// the kernel before the last keystrokes (ipywidgets buffers state updates while
// one is in flight, but not custom messages).

function render({ model, el }) {
  const form = document.createElement("form");
  form.className = "dcw-form";
  form.setAttribute("autocomplete", "off");
  // Lumino (JupyterLab) leaves keys typed in here to the form.
  form.setAttribute("data-lm-suppress-shortcuts", "true");

  const input = document.createElement("input");
  input.type = "text";
  input.className = "dcw-form-input";
  input.setAttribute("aria-label", "Message");

  const button = document.createElement("button");
  button.type = "submit";
  button.className = "dcw-form-send";
  button.textContent = "Send";

  form.append(input, button);
  el.append(form);

  function sync() {
    const disabled = Boolean(model.get("disabled"));
    input.disabled = disabled;
    button.disabled = disabled;
    input.placeholder = model.get("placeholder") || "";
    const limit = Number(model.get("max_length"));
    if (limit > 0) input.maxLength = limit;
  }

  function onSubmit(event) {
    event.preventDefault();
    if (model.get("disabled")) return;
    const text = input.value;
    if (!text.trim()) return; // blank: nothing to send, keep the focus
    model.send({ type: "submit", text });
    input.value = "";
    input.focus();
  }

  // Keys typed here are the form's, not JupyterLab's command shortcuts.
  function stopKeys(event) {
    event.stopPropagation();
  }

  form.addEventListener("submit", onSubmit);
  input.addEventListener("keydown", stopKeys);
  model.on("change:disabled", sync);
  model.on("change:placeholder", sync);
  model.on("change:max_length", sync);
  sync();

  return () => {
    form.removeEventListener("submit", onSubmit);
    input.removeEventListener("keydown", stopKeys);
    model.off("change:disabled", sync);
    model.off("change:placeholder", sync);
    model.off("change:max_length", sync);
  };
}

export default { render };
