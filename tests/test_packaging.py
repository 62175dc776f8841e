"""Packaging: every import is a declared dependency; conda and Binder files parse; Binder starts."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from support import TIMEOUT

from directus_chat_widget.local import LocalDirectus, cache_root

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "directus_chat_widget"


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


# Extras the package itself may import from (lazily, where used): not the tools'.
OPTIONAL = ("images", "plots", "tables")
# Import names whose distribution is named otherwise, for when it is not installed.
DISTRIBUTION_OF = {"PIL": "pillow"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    specs = [*project["dependencies"], *(spec for name in OPTIONAL for spec in extras[name])]
    return {_normal(Requirement(spec).name) for spec in specs}


def _third_party_imports() -> set[str]:
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    return {name for name in names if name not in stdlib and name != "directus_chat_widget"}


def test_every_import_of_the_package_is_a_declared_dependency() -> None:
    owners = packages_distributions()
    declared = _declared()
    missing = {}
    for module in _third_party_imports():
        dists = {_normal(d) for d in owners.get(module, [DISTRIBUTION_OF.get(module, module)])}
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not in pyproject dependencies: {missing}"


@pytest.mark.parametrize("path", ["environment.yml", "binder/environment.yml"])
def test_conda_files_parse_and_bring_python_and_node_22(path: str) -> None:
    env = yaml.safe_load((ROOT / path).read_text())
    deps = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    assert any(dep.startswith("python=3.1") for dep in deps), deps
    assert any(dep.startswith("nodejs>=22") for dep in deps), deps
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert pip, "the pip section installs the kit or JupyterLab"


def test_root_environment_installs_the_kit_with_its_extras() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert "-e .[lab,test]" in pip


def test_binder_post_build_installs_kit_and_directus() -> None:
    script = (ROOT / "binder/postBuild").read_text()
    assert "pip install" in script and "directus-chat install" in script
    assert os.access(ROOT / "binder/postBuild", os.X_OK)


@pytest.mark.integration
def test_binder_start_brings_up_directus_then_runs_the_command(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path),
        DIRECTUS_CHAT_CACHE=str(cache_root()),  # HOME moved: keep the installed Directus
        DIRECTUS_CHAT_DATA=str(tmp_path / "data"),
        DIRECTUS_CHAT_PORT="0",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
    )
    env.pop("DIRECTUS_CHAT_ENV_FILE", None)
    try:
        done = subprocess.run(
            [str(ROOT / "binder/start"), "cat", ".env"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30 * TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("DIRECTUS_URL=http://127.0.0.1:"), done.stdout
    finally:
        LocalDirectus(tmp_path / "data").stop()
    assert not (tmp_path / "data" / "directus.pid").exists()


def test_a_plain_script_imports_the_client_without_the_widget_libraries() -> None:
    script = (
        "import sys, directus_chat_widget as kit\n"
        "from directus_chat_widget import RealtimeSession, SessionState, ChatRoom\n"
        "import directus_chat_widget.session, directus_chat_widget.protocol\n"
        "import directus_chat_widget.store, directus_chat_widget.subscription\n"
        "import directus_chat_widget.chat\n"
        "assert 'ipywidgets' not in sys.modules and 'anywidget' not in sys.modules\n"
        "assert directus_chat_widget.session.RealtimeSession is RealtimeSession\n"
        "assert kit.ChatWidget.__name__ == 'ChatWidget'  # still there, on demand\n"
        "assert 'ipywidgets' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=TIMEOUT)


def _runtime_imports(path: Path) -> set[str]:
    """The sibling modules ``path`` imports at run time (not under ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module)
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_realtime_modules_import_only_the_ones_listed_below_them() -> None:
    """realtime/__init__'s docstring lists its modules in import order: no circle."""
    realtime = PACKAGE / "realtime"
    doc = ast.get_docstring(ast.parse((realtime / "__init__.py").read_text())) or ""
    listed = [line.split()[0] for line in doc.splitlines() if line.startswith("    ")]
    order = [name[:-3] for name in listed if name.endswith(".py")]
    modules = {path.stem for path in realtime.glob("*.py")} - {"__init__"}
    unlisted = modules - set(order) - {"frames"}  # frames.py is named with protocol.py
    assert not unlisted, f"not listed in realtime/__init__.py: {sorted(unlisted)}"
    for rank, name in enumerate(order):
        above = set(order[: rank + 1])
        wrong = _runtime_imports(realtime / f"{name}.py") & above
        assert not wrong, f"{name}.py imports {sorted(wrong)}, listed at or above it"


def test_no_import_circle_between_the_layers() -> None:
    """realtime/ never imports chat/ or widget/; chat/ never imports widget/."""
    for layer, below_only in (("realtime", ("chat", "widget")), ("chat", ("widget",))):
        for path in (PACKAGE / layer).glob("*.py"):
            text = path.read_text()
            for upper in below_only:
                assert f"from ..{upper}" not in text, f"{path.name} imports {upper}"
