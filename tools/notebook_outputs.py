"""Run tutorial notebooks and store the outputs nbval compares; drop what changes every run.

    PYTHONPATH=. .venv/bin/python tools/notebook_outputs.py [notebooks/05_history.ipynb ...]

With no argument, every notebook in ``notebooks/``. The kernels get the set-up
the nbval run gives them (``notebooks/conftest.py``: a private local Directus,
or your own with ``DIRECTUS_EMAIL``...). Each notebook runs top to bottom in
``notebooks/`` and is written back with:

- outputs only in the cells that start with ``# NBVAL_CHECK_OUTPUT``, numbered
  1, 2, ... (nbval compares those, after ``notebooks/sanitize.cfg``; an output
  nobody compares would go stale unnoticed);
- no execution timestamps, no widget state, no kernel-specific metadata.

A notebook whose run fails, or whose kept outputs hold something shaped like a
token, is not written.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"
# What tests/test_notebook_files.py refuses in a stored output.
SECRET = re.compile(r"eyJ[\w-]{10,}|[\w-]{60,}")
KEPT_METADATA = ("kernelspec", "language_info")


def _servers() -> Any:
    spec = importlib.util.spec_from_file_location("notebook_conftest", NOTEBOOKS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NotebookServers()


def tidy(notebook: Any) -> Any:
    """Keep compared outputs only, numbered; strip run-specific metadata."""
    notebook.metadata = {key: notebook.metadata[key] for key in KEPT_METADATA}
    notebook.metadata["language_info"].pop("version", None)
    count = 0
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if cell.source.startswith(CHECK):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
        else:
            cell.outputs, cell.execution_count = [], None
    return notebook


def refresh(path: Path, timeout: int) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        store_widget_state=False,
    )
    client.execute()
    tidy(notebook)
    kept = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    if SECRET.search(kept):
        raise SystemExit(f"{path.name}: an output looks like a token; not written")
    nbformat.write(notebook, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args()
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    servers = _servers()
    try:
        os.environ.update(servers.start())
        for path in paths:
            print(f"running {path.name} ...", flush=True)
            refresh(path.resolve(), args.timeout)
    finally:
        servers.stop()
    for folder in servers.left_running:
        print(f"warning: a notebook left a Directus running (stopped now): {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
