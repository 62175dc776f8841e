// StatusBar view: "● connected  Ada Lovelace  [Reconnect] [Logout]".
//
// The state is announced to screen readers (role="status"). When the kernel
// behind this view restarts or stops, the widget manager marks the model's
// comm as no longer live: nothing here can be updated any more, so the view
// says so and what to do, rather than keep showing "connected".

const WORDS = {
  connected: "connected",
  connecting: "connecting…",
  reconnecting: "reconnecting…",
  offline: "offline",
  "logged out": "logged out",
};

function render({ model, el }) {
  const bar = document.createElement("div");
  bar.className = "dcw-status";

  const state = document.createElement("span");
  state.className = "dcw-status-state";
  state.setAttribute("role", "status");
  state.setAttribute("aria-live", "polite");

  const user = document.createElement("span");
  user.className = "dcw-status-user";
  user.dir = "auto";

  const actions = document.createElement("span");
  actions.className = "dcw-status-actions";

  const reconnect = document.createElement("button");
  reconnect.type = "button";
  reconnect.className = "dcw-button dcw-status-reconnect";
  reconnect.textContent = "Reconnect";

  const logout = document.createElement("button");
  logout.type = "button";
  logout.className = "dcw-button dcw-status-logout";
  logout.textContent = "Logout";

  actions.append(reconnect, logout);
  bar.append(state, user, actions);
  el.append(bar);

  let kernelLost = false;

  function update() {
    if (kernelLost) {
      bar.dataset.connection = "lost";
      state.textContent =
        "● The kernel restarted or stopped: this chat no longer updates. Run its cell again.";
      user.textContent = "";
      reconnect.hidden = true;
      logout.hidden = true;
      return;
    }
    const connection = model.get("connection") || "logged out";
    bar.dataset.connection = connection;
    state.textContent = `● ${WORDS[connection] || connection}`;
    const name = model.get("user") || "";
    user.textContent = name ? `Logged in as ${name}` : "";
    user.title = name;
    reconnect.hidden = connection !== "offline";
    logout.hidden = !model.get("logged_in");
  }

  function onKernelGone() {
    // The comm is live from the start; once down (kernel restarting, shut
    // down) it never comes back for this model.
    kernelLost = true;
    update();
  }

  const onReconnect = () => model.send({ type: "reconnect" });
  const onLogout = () => {
    logout.disabled = true;
    model.send({ type: "logout" });
  };
  const onLoggedIn = () => {
    logout.disabled = false;
    update();
  };

  reconnect.addEventListener("click", onReconnect);
  logout.addEventListener("click", onLogout);
  model.on("change:connection", update);
  model.on("change:user", update);
  model.on("change:logged_in", onLoggedIn);
  model.on("comm_live_update", onKernelGone);
  update();

  return () => {
    reconnect.removeEventListener("click", onReconnect);
    logout.removeEventListener("click", onLogout);
    model.off("change:connection", update);
    model.off("change:user", update);
    model.off("change:logged_in", onLoggedIn);
    model.off("comm_live_update", onKernelGone);
  };
}

export default { render };
