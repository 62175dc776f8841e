"""The committed tutorial notebooks, read as files (no kernel): what a commit may hold.

One step per notebook, named ``NN_step``; each ends with a check; every stored
output is one nbval compares; nothing that changes on every run (execution
times, widget state) and no secret is committed; no notebook names an account;
the wire is shown where the tutorial says so. Running them is nbval's job
(``make test``) and ``test_notebook_steps.py``'s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"
# A JWT (access token) starts with base64 of '{"' ; refresh tokens are long url-safe runs.
SECRET = re.compile(r"eyJ[\w-]{10,}|[\w-]{60,}")
# The tutorial's steps written here; 11 to 13 are the group features' own notebooks.
STEPS = (
    "00_start_here",
    "01_configuration",
    "02_authentication",
    "03_subscribe",
    "04_send",
    "05_history",
    "06_staying_connected",
    "07_build_your_own",
    "08_chat_widget",
    "09_secure_permissions",
    "10_rooms_and_edits",
    "11_reactions_and_replies",
    "12_unread_mentions_presence",
    "13_rich_messages",
    "14_cluster",
    "15_going_further",
)
SHOW_THE_WIRE = ("02", "03", "04", "05", "06")
DEMO_SECRETS = ("ada@example.com", "grace@example.com", "ada-chat-demo", "grace-chat-demo")


def _notebook(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text()))


def _cells(path: Path) -> list[dict[str, object]]:
    return list(_notebook(path)["cells"])  # type: ignore[call-overload]


def _source(cell: dict[str, object]) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else str(source)


def _code(path: Path) -> list[dict[str, object]]:
    return [cell for cell in _cells(path) if cell["cell_type"] == "code"]


def test_every_step_is_there_once_under_its_number() -> None:
    names = [path.stem for path in NOTEBOOKS]
    assert set(STEPS) <= set(names), sorted(set(STEPS) - set(names))
    assert all(re.fullmatch(r"\d\d_[a-z_]+", name) for name in names), names
    numbers = [name[:2] for name in names]
    assert len(numbers) == len(set(numbers)), f"two notebooks share a number: {names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_compared_cells_keep_outputs_and_none_holds_a_secret(path: Path) -> None:
    for cell in _code(path):
        outputs = cell.get("outputs") or []
        if not _source(cell).startswith(CHECK):
            assert outputs == [], f"{path.name}: an output nbval never compares (it would go stale)"
            assert cell.get("execution_count") is None, f"{path.name}: a count for no output"
        assert not SECRET.search(json.dumps(outputs)), f"{path.name}: a token-like output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_step_ends_with_a_checked_cell(path: Path) -> None:
    last = _code(path)[-1]
    assert _source(last).startswith(CHECK)
    assert last.get("outputs"), f"{path.name}: the check has no stored output to compare"
    # nbval refuses a reference cell with outputs but no execution count ("unrun").
    assert last.get("execution_count"), f"{path.name}: the check cell looks unrun to nbval"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nothing_that_changes_every_run_is_committed(path: Path) -> None:
    """What `tools/notebook_outputs.py` strips: run times, widget state, the Python version."""
    notebook = _notebook(path)
    assert set(notebook["metadata"]) <= {"kernelspec", "language_info"}  # type: ignore[arg-type]
    assert "version" not in notebook["metadata"].get("language_info", {})  # type: ignore[attr-defined]
    for cell in _cells(path):
        assert "execution" not in cell.get("metadata", {}), f"{path.name}: execution times"  # type: ignore[operator]
        for output in cell.get("outputs") or []:  # type: ignore[attr-defined]
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_names_an_account(path: Path) -> None:
    """Accounts come from chat_logins(): yours from the environment, else the demo users."""
    text = "".join(_source(cell) for cell in _cells(path))
    assert "DEMO_USERS" not in text
    for secret in DEMO_SECRETS:
        assert secret not in text, f"{path.name} names {secret}"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.name[:2] in SHOW_THE_WIRE], ids=lambda p: p.name
)
def test_the_wire_is_shown_with_a_diagram_of_the_flow(path: Path) -> None:
    code = "".join(_source(cell) for cell in _code(path))
    text = "".join(_source(cell) for cell in _cells(path) if cell["cell_type"] == "markdown")
    assert "frames=" in code, f"{path.name} shows no frames"
    assert "```mermaid" in text, f"{path.name} has no diagram"


def test_the_recovery_path_is_drawn() -> None:
    text = "".join(_source(cell) for cell in _cells(ROOT / "notebooks/06_staying_connected.ipynb"))
    assert "RECONNECTING --> CONNECTING" in text and "REAUTHENTICATING --> READY" in text


def test_the_sanitize_file_holds_patterns_nbval_can_use() -> None:
    text = (ROOT / "notebooks" / "sanitize.cfg").read_text()
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)
    assert len(pairs) >= 5
    for pattern, _ in pairs:
        re.compile(pattern)
    makefile = (ROOT / "Makefile").read_text()
    assert "--nbval-sanitize-with notebooks/sanitize.cfg" in makefile


def test_the_readme_and_the_start_notebook_list_the_notebooks_there_are() -> None:
    readme = (ROOT / "README.md").read_text()
    start = "".join(_source(cell) for cell in _cells(ROOT / "notebooks/00_start_here.ipynb"))
    named = set(re.findall(r"`(\d\d_[a-z_]+)`", readme))
    assert set(STEPS) <= named, sorted(set(STEPS) - named)
    assert named <= {path.stem for path in NOTEBOOKS}, sorted(named)
    for step in STEPS:
        assert f"**{step[:2]} " in start, f"00_start_here does not list {step}"
