"""The Binder files, checked as far as this machine can (it cannot reach mybinder.org).

What runs here: the scripts are valid bash and executable; the environment
pins what the kit needs and matches the repository's own; ``postBuild``
installs the extras ``make lab`` uses and Directus; the badge opens a notebook
that exists; and ``binder/start`` really brings a Directus up (schema, demo
users, ``DIRECTUS_URL`` in ``./.env``) and hands over to Binder's command, or
hands over anyway, saying why, when ``up`` fails. What does not: building the
image (the conda solve), Binder's memory limit and idle culling.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from support import TIMEOUT

from directus_chat_widget.local import DEFAULT_DIRECTUS_VERSION, LocalDirectus, cache_root
from directus_chat_widget.local.install import is_installed

ROOT = Path(__file__).parents[1]
BINDER = ROOT / "binder"


def test_the_scripts_are_executable_bash() -> None:
    for name in ("postBuild", "start"):
        script = BINDER / name
        assert script.read_text().startswith("#!/usr/bin/env bash\n")
        assert os.access(script, os.X_OK), f"binder/{name} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True, timeout=TIMEOUT)


def test_the_environment_pins_what_the_kit_needs() -> None:
    binder = yaml.safe_load((BINDER / "environment.yml").read_text())
    own = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert binder["channels"] == own["channels"] == ["conda-forge"]
    conda = [dep for dep in binder["dependencies"] if isinstance(dep, str)]
    assert "python=3.11" in conda and "python=3.11" in own["dependencies"]
    requires = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text())
    assert requires is not None and requires.group(1) == "3.11"
    assert "pip" in conda
    pip = next(dep["pip"] for dep in binder["dependencies"] if isinstance(dep, dict))
    assert any(name.startswith("jupyterlab>=4") for name in pip)
    assert any(name.startswith("voila") for name in pip)


def test_postbuild_installs_the_lab_extras_and_directus() -> None:
    text = (BINDER / "postBuild").read_text()
    assert 'pip install --no-cache-dir -e ".[lab]"' in text
    assert "\ndirectus-chat install\n" in text
    assert "lab = [" in (ROOT / "pyproject.toml").read_text()


def test_the_badge_opens_the_first_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    path = re.search(r"urlpath=lab/tree/(\S+?\.ipynb)", readme)
    assert path is not None and (ROOT / path.group(1)).is_file()


def _start(tmp_path: Path, path: str, *command: str) -> tuple[int, str, str]:
    """Run ``binder/start command`` as Binder would, in a session of its own (killed whole)."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DIRECTUS")},
        "HOME": str(tmp_path / "home"),  # start writes its log there
        "DIRECTUS_CHAT_CACHE": str(cache_root()),  # the installed Directus, never a new install
        "PATH": path,
        "DIRECTUS_CHAT_DATA": str(tmp_path / "data"),
        "DIRECTUS_CHAT_PORT": "0",  # never 8055 on a shared machine
    }
    (tmp_path / "home").mkdir()
    with subprocess.Popen(
        [str(BINDER / "start"), *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=12 * TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            pytest.fail(f"binder/start did not finish:\n{out}\n{err}")
    return process.returncode, out, err


@pytest.mark.integration
def test_start_brings_directus_up_then_runs_binders_command(tmp_path: Path) -> None:
    scripts = str(Path(sys.executable).parent)
    if shutil.which("directus-chat", path=scripts) is None:
        pytest.skip("directus-chat is not installed next to this Python")
    if not is_installed(DEFAULT_DIRECTUS_VERSION):
        pytest.skip("Directus is not installed yet (`directus-chat install`)")
    try:
        code, out, err = _start(tmp_path, f"{scripts}:/usr/bin:/bin", "cat", ".env")
        assert code == 0, err
        url = re.fullmatch(r"DIRECTUS_URL=(http://127\.0\.0\.1:\d+)\n", out)
        assert url is not None, out  # the command ran, after `up` wrote .env
        assert httpx.get(f"{url.group(1)}/server/ping", timeout=TIMEOUT).text == "pong"
        assert "demo logins" in (tmp_path / "home" / ".directus-chat-up.log").read_text()
    finally:
        LocalDirectus(tmp_path / "data").stop()


def test_start_hands_over_even_when_up_fails(tmp_path: Path) -> None:
    code, out, err = _start(tmp_path, "/usr/bin:/bin", "echo", "lab starts")  # no directus-chat
    assert (code, out) == (0, "lab starts\n")
    assert "directus-chat up failed; the notebooks explain how to retry" in err
