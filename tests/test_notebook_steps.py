"""The tutorial run as a reader with their own Directus would run it, and every check proven red.

One server for the module plays "your own Directus": the notebooks get only
``DIRECTUS_URL`` and two logins in ``DIRECTUS_EMAIL``... (as ``chat_logins()``
reads them), start no server of their own and must all pass under nbval, as
``make test`` runs them. (06 is left out of that run: it never uses
``DIRECTUS_URL``, since it crashes a private server of its own, and it runs in
this mode below anyway, up to its broken step.)

Then every notebook runs again with its step broken on purpose, and its final
check must go red. A break is either a patch the kernel loads at start (an
IPython startup file, which picks the patch by the notebook's folder: the kit
carries no test hooks) or a change to the server's permissions, undone by
applying the chat schema again. To pay for one pytest start rather than one per
notebook, the broken notebooks run in one nbval session (two: one per kind of
break), each copy in a folder of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import TEST_SERVER_ENV, TIMEOUT

from directus_chat_widget.local import DEMO_USERS, LocalDirectus
from directus_chat_widget.local.access import public_policy_id
from directus_chat_widget.local.rules import CHAT_POLICY_NAME
from directus_chat_widget.rest import DirectusRest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"
LEFT_RUNNING = "a notebook left a Directus running"
# What the nbval run in this process (make test) may have set for its own kernels.
NOT_INHERITED = ("DIRECTUS_URL", "DIRECTUS_CHAT_DATA", "DIRECTUS_CHAT_ENV_FILE", "TMPDIR")


@dataclass
class Run:
    """One nbval run: ``{notebook: [each code cell's outcome]}``, and what pytest printed."""

    cells: dict[str, list[str]]
    output: str


def _outcomes(junit: Path) -> dict[str, list[str]]:
    cells: dict[str, list[str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        notebook = Path(case.get("file") or case.get("classname", "")).stem.split(".")[-1]
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        cells.setdefault(notebook, []).append(
            "failed" if failed else "skipped" if skipped else "passed"
        )
    return cells


def run_nbval(
    paths: list[Path], env: dict[str, str], scratch: Path, startup: str | None = None
) -> Run:
    """Run ``paths`` under nbval as ``make test`` does, in a fresh pytest process."""
    scratch.mkdir(parents=True, exist_ok=True)
    junit = scratch / "junit.xml"
    full_env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    full_env.update(env)
    if startup is not None:
        folder = scratch / "ipython" / "profile_default" / "startup"
        folder.mkdir(parents=True)
        (folder / "00-break.py").write_text(startup)
        full_env["IPYTHONDIR"] = str(scratch / "ipython")
    command = [
        sys.executable,
        *("-m", "pytest", *map(str, paths), "--nbval-lax", "--nbval-current-env"),
        *("--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider", "-q"),
        *(f"--junitxml={junit}", "-o", "junit_family=xunit1", f"--rootdir={ROOT}"),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60 * TIMEOUT
    )
    return Run(_outcomes(junit), done.stdout + done.stderr)


@pytest.fixture(scope="module")
def own_directus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDirectus]:
    """A server the notebooks know by URL and logins only, as they would know yours."""
    server = LocalDirectus(tmp_path_factory.mktemp("own-directus"), port=0, env=TEST_SERVER_ENV)
    server.start()
    try:
        server.setup_chat()
        yield server
    finally:
        server.stop()


def own_environment(server: LocalDirectus, scratch: Path) -> dict[str, str]:
    ada, grace = DEMO_USERS
    nowhere = scratch / "no-local-server"
    nowhere.mkdir(parents=True, exist_ok=True)
    return {
        "DIRECTUS_URL": server.url,
        "DIRECTUS_EMAIL": ada.email,
        "DIRECTUS_PASSWORD": ada.password,
        "DIRECTUS_EMAIL_2": grace.email,
        "DIRECTUS_PASSWORD_2": grace.password,
        # Where chat_server() would put a local server: it must stay empty.
        "DIRECTUS_CHAT_DATA": str(nowhere),
    }


def test_every_notebook_runs_on_your_own_directus(
    own_directus: LocalDirectus, tmp_path: Path
) -> None:
    notebooks = [path for path in sorted(NOTEBOOKS.glob("*.ipynb")) if path.name[:2] != "06"]
    run = run_nbval(notebooks, own_environment(own_directus, tmp_path), tmp_path)
    assert set(run.cells) == {path.stem for path in notebooks}, run.output[-3000:]
    red = {name: cells for name, cells in run.cells.items() if "failed" in cells}
    assert not red, run.output[-6000:]
    assert not any((tmp_path / "no-local-server").iterdir()), "a notebook started a local server"


# -- each check, red when its step is broken ------------------------------------------------

ServerBreak = Callable[[DirectusRest, str], Awaitable[None]]


async def _public_may_post(rest: DirectusRest, token: str) -> None:
    """The seed's shortcut: the Public policy may create messages."""
    public = await public_policy_id(rest, token)
    rule = {"policy": public, "collection": "messages", "action": "create", "fields": ["*"]}
    await rest.request("POST", "/permissions", token=token, json=rule)


async def _anyone_may_edit_any_message(rest: DirectusRest, token: str) -> None:
    """The chat user's update rule loses its own-messages-only filter."""
    name = {"filter": {"name": {"_eq": CHAT_POLICY_NAME}}, "fields": "id"}
    [policy] = await rest.request("GET", "/policies", token=token, params=name)
    rule = {"policy": {"_eq": policy["id"]}, "collection": {"_eq": "messages"}}
    query = {"filter": {**rule, "action": {"_eq": "update"}}, "fields": "id"}
    [update] = await rest.request("GET", "/permissions", token=token, params=query)
    await rest.request(
        "PATCH", f"/permissions/{update['id']}", token=token, json={"permissions": {}}
    )


@dataclass(frozen=True)
class Break:
    """How one step is broken: kernel code run at start, or a change to the server."""

    notebook: str
    why: str
    startup: str | None = None
    server: ServerBreak | None = None


BREAKS = [
    Break("00_start_here", "the public may post", server=_public_may_post),
    Break(
        "01_configuration",
        "the .env lookup finds nothing",
        "import directus_chat_widget.config as c\nc.find_dotenv = lambda start=None: None\n",
    ),
    Break(
        "02_authentication",
        "the socket's auth carries more than the token",
        "from directus_chat_widget.realtime import protocol as p\nplain = p.auth_access_token\n"
        "p.auth_access_token = lambda token, *uid: {**plain(token, *uid), 'email': 'x'}\n",
    ),
    Break(
        "03_subscribe",
        "the subscription's fields are not sent",
        "from directus_chat_widget.realtime import protocol as p\nplain = p.subscribe\n"
        "p.subscribe = lambda c, uid, *, event=None, query=None: plain(c, uid, event=event)\n",
    ),
    Break(
        "04_send",
        "creates go without a client_uid",
        "from directus_chat_widget.realtime.session import RealtimeSession as S\n"
        "plain = S.__init__\n"
        "S.__init__ = lambda self, *a, **k: plain(self, *a, **{**k, 'dedupe_field': None})\n",
    ),
    Break(
        "05_history",
        "the first page is the oldest, not the latest",
        "from directus_chat_widget.chat.room import ChatRoom as R\nplain = R._page_query\n"
        "R._page_query = lambda self, **k: {**plain(self, **k), 'sort': ['id']}\n",
    ),
    Break(
        "06_staying_connected",
        "a lost connection is never re-established",
        "from directus_chat_widget.realtime._flow import Backoff\n"
        "Backoff.__iter__ = lambda self: iter(())\n",
    ),
    Break(
        "07_build_your_own",
        "logging out leaves the session open",
        "from directus_chat_widget.realtime.session import RealtimeSession as S\n"
        "async def logout(self): pass\nS.logout = logout\n",
    ),
    Break(
        "08_chat_widget",
        "the message list never hears of a change",
        "from directus_chat_widget.widget.message_list import MessageList as L\n"
        "L.apply = lambda self, change, **k: None\n",
    ),
    Break(
        "09_secure_permissions", "anyone may edit any message", server=_anyone_may_edit_any_message
    ),
    Break(
        "10_rooms_and_edits",
        "a room's reads are not filtered by room",
        "from directus_chat_widget.chat import room as r\n"
        "r.in_room = lambda room_id, query_filter=None: dict(query_filter or {})\n",
    ),
    Break(
        "11_reactions_and_replies",
        "a reply goes out without its reply_to",
        "from directus_chat_widget import ChatWidget as W\nplain = W.send_message\n"
        "W.send_message = lambda self, text, *, reply_to=None: plain(self, text)\n",
    ),
    Break(
        "12_unread_mentions_presence",
        "reading never moves the read position",
        "from directus_chat_widget import ChatWidget as W\n"
        "async def mark_read(self): pass\nW.mark_read = mark_read\n",
    ),
    Break(
        "13_rich_messages",
        "a DataFrame goes as plain text, not a table",
        "from directus_chat_widget.chat import _convert as c\n"
        "c.table_markdown = lambda frame, **k: frame.to_string()\n",
    ),
    Break(
        "14_cluster",
        "the recipe's instances share no Redis",
        "from directus_chat_widget.local import cli\nplain = cli.compose_files\n"
        "def files(*a, **k):\n    made = plain(*a, **k)\n"
        "    made['compose.yaml'] = made['compose.yaml'].replace('REDIS: ', 'NO_REDIS: ')\n"
        "    return made\ncli.compose_files = files\n",
    ),
    # Alone in its folder (as every broken notebook runs), 15 finds none of the notebooks it names.
    Break("15_going_further", "the notebooks it points at are missing", ""),
]


# The IPython startup file of the broken runs: the patch for the notebook this kernel runs.
PICK_THE_PATCH = """
from pathlib import Path
exec(PATCHES.get(Path.cwd().name, ""))
"""


def _copies(breaks: list[Break], root: Path) -> list[Path]:
    """Each broken notebook alone in a folder named after it, under the nbval conftest."""
    root.mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "conftest.py", root / "conftest.py")
    copies = []
    for broken in breaks:
        folder = root / broken.notebook
        folder.mkdir()
        copies.append(Path(shutil.copy(NOTEBOOKS / f"{broken.notebook}.ipynb", folder)))
    return copies


@pytest.fixture(scope="module")
async def broken_runs(
    own_directus: LocalDirectus, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Run]:
    """Each notebook with its step broken: kernel patches in one run, server changes in another."""
    runs: dict[str, Run] = {}
    scratch = tmp_path_factory.mktemp("broken")
    env = own_environment(own_directus, scratch)
    patched = [broken for broken in BREAKS if broken.server is None]
    patches = {broken.notebook: broken.startup or "" for broken in patched}
    startup = f"PATCHES = {patches!r}\n{PICK_THE_PATCH}"
    copies = _copies(patched, scratch / "patched")
    run = run_nbval(copies, env, scratch / "patched", startup)
    runs.update(dict.fromkeys((broken.notebook for broken in patched), run))
    on_server = [broken for broken in BREAKS if broken.server is not None]
    async with DirectusRest(own_directus.url) as rest:
        admin = await rest.login(own_directus.admin_email, own_directus.admin_password)
        try:
            for broken in on_server:
                assert broken.server is not None
                await broken.server(rest, admin.access_token)
            copies = _copies(on_server, scratch / "on-server")
            run = run_nbval(copies, env, scratch / "on-server")
        finally:
            own_directus.setup_chat()  # the chat's rules again, exactly
            await rest.logout(admin.refresh_token)
    runs.update(dict.fromkeys((broken.notebook for broken in on_server), run))
    return runs


@pytest.mark.parametrize("broken", BREAKS, ids=lambda b: b.notebook)
def test_each_check_goes_red_when_its_step_is_broken(
    broken: Break, broken_runs: dict[str, Run]
) -> None:
    run = broken_runs[broken.notebook]
    cells = run.cells.get(broken.notebook)
    assert cells, run.output[-3000:]
    assert cells[-1] == "failed", f"{broken.why}, yet the check passed:\n{run.output[-4000:]}"


def test_no_broken_notebook_left_a_server_running(broken_runs: dict[str, Run]) -> None:
    """06 crashes its own server and, broken, fails on the way: it must still stop it."""
    assert all(LEFT_RUNNING not in run.output for run in broken_runs.values())
