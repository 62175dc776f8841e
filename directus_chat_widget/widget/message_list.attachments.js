// Row part: attachments. A message's file shows under its text: an image as a
// thumbnail that opens the whole image over the page, any other file as a
// chip that downloads it. Every byte comes from the kernel in the comm's
// buffers ("attachment" messages, see widget/_attachments.py): the page never
// fetches a file, never sees a file URL or a token. What the kernel found the
// bytes to be decides: a file declared an image that is not one arrives as a
// plain file, and a file is only ever a download (application/octet-stream).
//
// Thumbnails are asked for when a row comes near the visible part of the
// list (once per row); an image that has no thumbnail (no Pillow in the
// kernel, a large image) shows a button instead. Object URLs live only until
// the picture is decoded (or the download started).
{
  const AHEAD_PX = 400; // ask for a thumbnail this far before it scrolls into sight
  const FILE_TYPE = "application/octet-stream";
  const perView = new WeakMap(); // view -> {observer, waiting: Map(key -> row)}

  function sizeText(bytes) {
    if (typeof bytes !== "number" || !Number.isFinite(bytes)) return "";
    if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  }

  function ask(view, key, want) {
    view.model.send({ type: "attachment", view: view.viewId, key, want });
  }

  function stateOf(view) {
    let state = perView.get(view);
    if (state) return state;
    state = { observer: null, waiting: new Map() };
    perView.set(view, state);
    view.handle("attachment", (msg, buffers) => receive(view, msg, buffers));
    if (typeof IntersectionObserver === "function") {
      state.observer = new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (!entry.isIntersecting) continue;
            state.observer.unobserve(entry.target);
            const key = entry.target.dataset.key;
            if (state.waiting.has(key)) {
              state.waiting.delete(key);
              ask(view, key, "thumb");
            }
          }
        },
        { root: view.scroller, rootMargin: `${AHEAD_PX}px 0px` },
      );
    }
    return state;
  }

  // Ask for a row's thumbnail once it nears the screen (at once without an observer).
  function wantThumb(view, row) {
    const state = stateOf(view);
    if (!state.observer) {
      ask(view, row.data.key, "thumb");
      return;
    }
    state.waiting.set(row.data.key, row);
    state.observer.observe(row.node);
  }

  function showOnce(img, blob) {
    const url = URL.createObjectURL(blob);
    const done = () => URL.revokeObjectURL(url);
    img.addEventListener("load", done, { once: true });
    img.addEventListener("error", done, { once: true });
    img.src = url;
  }

  function label(att) {
    const size = sizeText(att.size);
    return size ? `${att.name} · ${size}` : att.name;
  }

  // -- the box under the text --------------------------------------------------------

  function asImage(view, row, att) {
    const box = row.parts.attachment;
    const open = view.element("button", "dcw-att-thumb");
    open.type = "button";
    open.setAttribute("aria-label", `Open image ${att.name}`);
    open.title = label(att);
    const frame = view.element("span", "dcw-att-frame");
    if (att.width > 0 && att.height > 0) {
      frame.style.aspectRatio = `${att.width} / ${att.height}`;
      frame.style.width = `${Math.min(320, att.width)}px`;
    }
    const note = view.element("span", "dcw-att-note", "Loading image…");
    frame.append(note);
    open.append(frame);
    open.addEventListener("click", () => {
      open.disabled = true;
      open.classList.add("dcw-att-busy");
      ask(view, row.data.key, "full");
    });
    box.replaceChildren(open);
    wantThumb(view, row);
  }

  function asFile(view, row, att) {
    const box = row.parts.attachment;
    const chip = view.element("button", "dcw-att-file");
    chip.type = "button";
    chip.setAttribute("aria-label", `Download ${att.name}`);
    const icon = view.element("span", "dcw-att-icon", "⤓");
    icon.setAttribute("aria-hidden", "true");
    chip.append(icon, view.element("span", "dcw-att-name", label(att)));
    chip.addEventListener("click", () => {
      chip.disabled = true;
      chip.classList.add("dcw-att-busy");
      ask(view, row.data.key, "full");
    });
    box.replaceChildren(chip);
  }

  function problem(row, text) {
    const box = row.parts.attachment;
    box.replaceChildren(row.view.element("span", "dcw-att-error", text));
  }

  // -- what the kernel sends ---------------------------------------------------------

  function receive(view, msg, buffers) {
    const row = view.rows.get(msg.key);
    if (!row || !row.data || !row.data.attachment) return; // gone from this view
    const att = row.data.attachment;
    const data = buffers && buffers.length ? buffers[0] : null;
    for (const busy of row.parts.attachment.querySelectorAll(".dcw-att-busy")) {
      busy.disabled = false;
      busy.classList.remove("dcw-att-busy");
    }
    if (msg.error) {
      problem(row, `${att.name}: not available (${msg.error})`);
      return;
    }
    if (!msg.image) {
      if (!row.parts.attachment.querySelector(".dcw-att-file")) asFile(view, row, att);
      if (msg.want === "full" && data) download(att.name, data);
      return;
    }
    if (msg.want === "thumb") {
      const frame = row.parts.attachment.querySelector(".dcw-att-frame");
      if (!frame) return;
      if (!data) {
        frame.replaceChildren(view.element("span", "dcw-att-note", `Show image (${sizeText(att.size)})`));
        return;
      }
      const img = view.element("img", "dcw-att-img");
      img.alt = att.name;
      img.decoding = "async";
      showOnce(img, new Blob([data], { type: String(msg.mime) }));
      frame.replaceChildren(img);
      frame.classList.add("dcw-att-loaded");
      return;
    }
    if (data) lightbox(view, row, att, new Blob([data], { type: String(msg.mime) }));
  }

  function download(name, data) {
    const url = URL.createObjectURL(new Blob([data], { type: FILE_TYPE }));
    const link = document.createElement("a");
    link.href = url;
    link.download = name || "attachment";
    link.rel = "noopener";
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // The whole image over the page; Escape, the close button or a click beside it closes.
  function lightbox(view, row, att, blob) {
    const back = row.parts.attachment.querySelector(".dcw-att-thumb");
    const shade = view.element("div", "dcw-att-lightbox");
    shade.setAttribute("role", "dialog");
    shade.setAttribute("aria-modal", "true");
    shade.setAttribute("aria-label", `Image ${att.name}`);
    const close = view.element("button", "dcw-att-close", "Close");
    close.type = "button";
    const img = view.element("img", "dcw-att-full");
    img.alt = att.name;
    const caption = view.element("div", "dcw-att-caption", label(att));
    shade.append(close, img, caption);
    const end = () => {
      shade.remove();
      document.removeEventListener("keydown", onKey, true);
      if (back) back.focus({ preventScroll: true });
    };
    const onKey = (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // not JupyterLab's command mode
        end();
      }
    };
    shade.addEventListener("click", (event) => {
      if (event.target === shade) end();
    });
    close.addEventListener("click", end);
    document.addEventListener("keydown", onKey, true);
    showOnce(img, blob);
    document.body.append(shade);
    close.focus({ preventScroll: true });
  }

  ROW_PARTS.push({
    build(row, view) {
      const box = view.element("div", "dcw-att");
      box.hidden = true;
      row.parts.attachment = box;
      row.view = view;
      row.parts.text.after(box);
    },
    fill(row, message, view) {
      const att = message.attachment;
      const box = row.parts.attachment;
      const shown = att ? `${att.name}\u0000${att.mime}\u0000${att.size}\u0000${att.image}` : "";
      // The caption is the file's own name when none was given: show it once.
      row.parts.bubble.classList.toggle("dcw-att-named", Boolean(att) && message.text === att.name);
      if (row.attachmentShown === shown) return;
      row.attachmentShown = shown;
      box.hidden = !att;
      if (!att) {
        box.replaceChildren();
        return;
      }
      if (att.image) asImage(view, row, att);
      else asFile(view, row, att);
    },
  });
}
