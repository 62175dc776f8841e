// RoomBar view: a labelled text box whose suggestions are the rooms (a native
// datalist, filtered by the browser as one types), Open and New room buttons,
// and a line that says what went wrong. The name travels in the custom message.

let counter = 0;

function render({ model, el }) {
  const id = `dcw-rooms-${++counter}`;
  const form = document.createElement("form");
  form.className = "dcw-rooms";
  form.setAttribute("autocomplete", "off");
  form.setAttribute("data-lm-suppress-shortcuts", "true");

  const label = document.createElement("label");
  label.className = "dcw-rooms-label";
  label.htmlFor = `${id}-input`;
  label.textContent = "Room";

  const input = document.createElement("input");
  input.id = `${id}-input`;
  input.className = "dcw-rooms-input";
  input.setAttribute("list", `${id}-list`);
  input.setAttribute("placeholder", "Type to find a room");

  const list = document.createElement("datalist");
  list.id = `${id}-list`;

  const open = document.createElement("button");
  open.type = "submit";
  open.className = "dcw-rooms-open";
  open.textContent = "Open";

  const create = document.createElement("button");
  create.type = "button";
  create.className = "dcw-rooms-create";
  create.textContent = "New room";

  const error = document.createElement("div");
  error.className = "dcw-rooms-error";
  error.setAttribute("role", "alert");

  form.append(label, input, list, open, create, error);
  el.append(form);

  function ask(type) {
    const name = input.value.trim();
    if (!name) {
      error.textContent = "Type a room's name first.";
      return;
    }
    model.send({ type, name });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask("open");
  });
  create.addEventListener("click", () => ask("create"));
  // The room shown is selected on focus: typing replaces it, and the whole list
  // of suggestions (not only the current room's) is filtered by what is typed.
  input.addEventListener("focus", () => input.select());

  function showRooms() {
    const options = (model.get("rooms") || []).map((name) => {
      const option = document.createElement("option");
      option.value = name;
      return option;
    });
    list.replaceChildren(...options);
  }

  function sync() {
    const busy = Boolean(model.get("busy"));
    open.disabled = busy;
    create.disabled = busy;
    form.setAttribute("aria-busy", String(busy));
    error.textContent = model.get("error") || "";
  }

  // Only a new room replaces what is typed: a refused name stays to be fixed.
  function showCurrent() {
    input.value = model.get("current") || "";
  }

  showRooms();
  showCurrent();
  sync();
  model.on("change:rooms", showRooms);
  model.on("change:current", showCurrent);
  model.on("change:busy", sync);
  model.on("change:error", sync);
}

export default { render };
