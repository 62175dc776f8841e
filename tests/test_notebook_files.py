"""The committed tutorial notebooks: one step each, a check at the end, no secrets in outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"
# A JWT (access token) starts with base64 of '{"' ; refresh tokens are long url-safe runs.
SECRET = re.compile(r"eyJ[\w-]{10,}|[\w-]{60,}")


def _cells(path: Path) -> list[dict[str, object]]:
    return list(json.loads(path.read_text())["cells"])


def _source(cell: dict[str, object]) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else str(source)


def test_there_is_a_notebook_per_step() -> None:
    assert len(NOTEBOOKS) == 10, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_check_cells_keep_outputs_and_none_holds_a_secret(path: Path) -> None:
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        outputs = cell.get("outputs") or []
        if not _source(cell).startswith(CHECK):
            assert outputs == [], f"{path.name}: output kept in a cell that is not a check"
        assert not SECRET.search(json.dumps(outputs)), f"{path.name}: a token-like output"


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if not p.name.startswith("08")], ids=lambda p: p.name
)
def test_each_step_ends_with_a_checked_cell(path: Path) -> None:
    code = [cell for cell in _cells(path) if cell["cell_type"] == "code"]
    assert _source(code[-1]).startswith(CHECK)
    assert code[-1].get("outputs"), f"{path.name}: the check has no stored output to compare"
    # nbval refuses a reference cell with outputs but no execution count ("unrun").
    assert code[-1].get("execution_count"), f"{path.name}: the check cell looks unrun to nbval"
