// LoginForm view: email, password, Login, and a line for what went wrong.
//
// The password is read from its field when the form is sent, travels in that
// one custom message, and the field is emptied at once: it is never synced
// state, so it is in no widget model, saved notebook or second view.

function field(type, label, autocomplete) {
  const wrap = document.createElement("label");
  wrap.className = `dcw-login-field dcw-login-${type === "password" ? "password" : "email"}`;
  const caption = document.createElement("span");
  caption.className = "dcw-login-caption";
  caption.textContent = label;
  const input = document.createElement("input");
  input.type = type;
  input.autocomplete = autocomplete;
  input.dir = "auto";
  input.spellcheck = false;
  wrap.append(caption, input);
  return [wrap, input];
}

function render({ model, el }) {
  const form = document.createElement("form");
  form.className = "dcw-login";
  form.setAttribute("data-lm-suppress-shortcuts", "true");
  form.noValidate = true;

  const [emailField, email] = field("email", "Email", "username");
  const [passwordField, password] = field("password", "Password", "current-password");

  const button = document.createElement("button");
  button.type = "submit";
  button.className = "dcw-login-button";

  const message = document.createElement("div");
  message.className = "dcw-login-message";
  message.setAttribute("role", "alert");

  form.append(emailField, passwordField, button, message);
  el.append(form);

  function sync() {
    const busy = Boolean(model.get("busy"));
    email.disabled = busy;
    password.disabled = busy;
    button.disabled = busy;
    button.textContent = busy ? "Logging in…" : "Login";
    if (document.activeElement !== email) email.value = model.get("email") || "";
    message.textContent = model.get("error") || "";
  }

  function onSubmit(event) {
    event.preventDefault();
    if (model.get("busy")) return;
    const secret = password.value;
    password.value = ""; // gone from the page before anything can wait
    model.send({ type: "submit", email: email.value, password: secret });
  }

  form.addEventListener("submit", onSubmit);
  // Keys typed here are the form's, not JupyterLab's shortcuts.
  const stopKeys = (event) => event.stopPropagation();
  form.addEventListener("keydown", stopKeys);
  model.on("change:busy", sync);
  model.on("change:email", sync);
  model.on("change:error", sync);
  sync();

  return () => {
    form.removeEventListener("submit", onSubmit);
    form.removeEventListener("keydown", stopKeys);
    model.off("change:busy", sync);
    model.off("change:email", sync);
    model.off("change:error", sync);
  };
}

export default { render };
