// LoginForm view: email, password, Login, and a line for what went wrong;
// where the server lets people sign up, a link to a "Create account" mode
// (name, email, password) and back.
//
// The password is read from its field when the form is sent, travels in that
// one custom message ("submit" or "register"), and the field is emptied at
// once: it is never synced state, so it is in no widget model, saved notebook
// or second view.

function field(type, label, autocomplete) {
  const wrap = document.createElement("label");
  wrap.className = `dcw-login-field dcw-login-${type === "password" ? "password" : type}`;
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

  const [nameField, name] = field("name", "Your name", "given-name");
  name.type = "text";
  const [emailField, email] = field("email", "Email", "username");
  const [passwordField, password] = field("password", "Password", "current-password");

  const button = document.createElement("button");
  button.type = "submit";
  button.className = "dcw-login-button";

  const message = document.createElement("div");
  message.className = "dcw-login-message";
  message.setAttribute("role", "alert");

  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "dcw-login-toggle";

  form.append(nameField, emailField, passwordField, button, message, toggle);
  el.append(form);

  function sync() {
    const busy = Boolean(model.get("busy"));
    const signingUp = model.get("mode") === "register";
    nameField.hidden = !signingUp;
    toggle.hidden = !model.get("can_register");
    toggle.textContent = signingUp ? "I have an account: log in" : "Create an account";
    password.autocomplete = signingUp ? "new-password" : "current-password";
    for (const part of [name, email, password, button, toggle]) part.disabled = busy;
    if (signingUp) button.textContent = busy ? "Creating account…" : "Create account";
    else button.textContent = busy ? "Logging in…" : "Login";
    message.textContent = model.get("error") || "";
  }

  // Only when the kernel's email changes: any other change (the sign-up link
  // appearing a moment after display, say) must not wipe what is being typed.
  function syncEmail() {
    if (document.activeElement !== email) email.value = model.get("email") || "";
  }

  function onSubmit(event) {
    event.preventDefault();
    if (model.get("busy")) return;
    const secret = password.value;
    password.value = ""; // gone from the page before anything can wait
    if (model.get("mode") === "register") {
      model.send({ type: "register", name: name.value, email: email.value, password: secret });
    } else {
      model.send({ type: "submit", email: email.value, password: secret });
    }
  }

  function onToggle() {
    model.set("mode", model.get("mode") === "register" ? "login" : "register");
    model.set("error", "");
    model.save_changes();
  }

  form.addEventListener("submit", onSubmit);
  toggle.addEventListener("click", onToggle);
  // Keys typed here are the form's, not JupyterLab's shortcuts.
  const stopKeys = (event) => event.stopPropagation();
  form.addEventListener("keydown", stopKeys);
  model.on("change:busy", sync);
  model.on("change:email", syncEmail);
  model.on("change:error", sync);
  model.on("change:mode", sync);
  model.on("change:can_register", sync);
  sync();
  syncEmail();

  return () => {
    form.removeEventListener("submit", onSubmit);
    form.removeEventListener("keydown", stopKeys);
    toggle.removeEventListener("click", onToggle);
    model.off("change:mode", sync);
    model.off("change:can_register", sync);
    model.off("change:busy", sync);
    model.off("change:email", syncEmail);
    model.off("change:error", sync);
  };
}

export default { render };
