"""A page that renders one of the widget's ES modules without Jupyter.

The browser tests and the benchmark load it in Chromium to exercise and time
a view on its own: a stand-in model holds the synced state, records what the
view sends (``window.dcw.sent``) and delivers custom messages to it
(``window.dcw.deliver(msg)``), the same calls anywidget's model makes. Python
plays the kernel's side by relaying between that page and a real widget
object. Extra CSS (a JupyterLab theme's variables, say) goes in ahead of the
module's own, as a theme does in JupyterLab.
"""

from __future__ import annotations

import json
from typing import Any

from ._sources import module_css, module_source

__all__ = ["standalone_page"]


_PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>{title}</title><style>{extra}</style><style>{css}</style></head>
<body>
<div id="root" style="width: 720px"></div>
<script type="module">
const state = {state};
const listeners = new Map();
const model = {{
  get: (name) => state[name],
  set: (name, value) => {{ state[name] = value; }},
  save_changes: () => {{}},
  on: (event, callback) => {{
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event).add(callback);
  }},
  off: (event, callback) => {{
    if (listeners.has(event)) listeners.get(event).delete(callback);
  }},
  send: (content) => {{ window.dcw.sent.push(JSON.parse(JSON.stringify(content))); }},
}};
function emit(event, ...args) {{
  for (const callback of listeners.get(event) || []) callback(...args);
}}
window.dcw = {{
  sent: [],
  ready: false,
  deliver: (message, buffers) => emit("msg:custom", message, buffers || []),
  change: (name, value) => {{ state[name] = value; emit(`change:${{name}}`); }},
  drain: () => window.dcw.sent.splice(0),
}};
const source = {esm};
const url = URL.createObjectURL(new Blob([source], {{ type: "text/javascript" }}));
const widget = (await import(url)).default;
window.dcw.cleanup = widget.render({{ model, el: document.getElementById("root") }});
window.dcw.ready = true;
</script>
</body>
</html>
"""


def standalone_page(module: str, state: dict[str, Any], *, css: str = "") -> str:
    """HTML that renders ``widget/<module>.js``, its parts and its CSS over ``state``.

    Args:
        module: the file's stem, e.g. ``"message_list"`` (its CSS: ``message_list.css``
            and ``message_list.*.css``).
        state: the synced traits the view reads (``max_nodes``...).
        css: more style sheet text, placed before the module's own.
    """
    return _PAGE.format(
        title=module,
        extra=css.replace("</", "<\\/"),
        css=module_css(module),
        # json.dumps quotes the source; "</" is escaped so "</script>" inside it
        # cannot end the script element.
        esm=json.dumps(module_source(module)).replace("</", "<\\/"),
        state=json.dumps(state).replace("</", "<\\/"),
    )
