"""The chat widget in a real JupyterLab, driven through headless Chromium.

A JupyterLab server runs on a free 127.0.0.1 port over a temporary folder
holding a small notebook that builds a ChatWidget for the test Directus.
Playwright (Python) drives Debian's Chromium: run the cell, log in by typing
and clicking, send a message, see one from a second session appear, check that
markup arrives as inert text, re-display the widget and see the history again,
and save a screenshot under ``artifacts/``. The list view alone is in
``test_list_view.py``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from labdriver import MS, Lab, LabPage, chat_cell, chromium, lab, log_in_by_form, notebook
from support import CHROMIUM, CHROMIUM_ARGS, CONTRAST_JS, XSS, MakeDirectus

from directus_chat_widget.chat import find_room
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession

pytestmark = pytest.mark.browser
__all__ = ["chromium", "lab", "notebook"]  # fixtures, shared in labdriver.py

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.mark.integration
async def test_the_widget_in_jupyterlab(
    lab: Lab, grace: RealtimeSession, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import async_playwright, expect

    ada = demo_users[0]
    dialogs: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 1000})
            expect.set_options(timeout=3 * MS)

            async def dismiss(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", dismiss)
            notebook = LabPage(page, lab)
            await notebook.open("chat.ipynb")
            await notebook.run_cell(0)

            # Log in by typing and clicking.
            email = page.locator(".dcw-login-email input")
            await expect(email).to_be_visible(timeout=6 * MS)
            await email.fill(ada.email)
            await page.locator(".dcw-login-password input").fill(ada.password)
            await page.locator("button.dcw-login-button").click()
            await expect(page.locator(".dcw-list")).to_be_visible()
            await expect(page.locator(".dcw-status-user")).to_contain_text(ada.first_name)
            await expect(page.locator(".dcw-login-password input")).to_have_count(0)

            # Send by typing and pressing Enter.
            mine = f"typed in Chromium {uuid.uuid4().hex[:8]}"
            box = page.locator(".dcw-form-input")
            await expect(box).to_be_enabled()
            await box.fill(mine)
            await box.press("Enter")
            own = page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=mine)
            await expect(own).to_be_visible()
            await expect(own.locator(".dcw-msg-author")).to_have_text(ada.first_name)
            await expect(box).to_have_value("")

            # A message from a second session appears.
            theirs = f"from Grace {uuid.uuid4().hex[:8]}"
            await grace.create({"content": theirs})
            other = page.locator(".dcw-msg:not(.dcw-own)", has_text=theirs)
            await expect(other).to_be_visible()
            await expect(other.locator(".dcw-msg-author")).to_have_text(demo_users[1].first_name)
            await expect(other.locator(".dcw-msg-time")).not_to_be_empty()

            # Markup, received and typed, is inert text.
            await grace.create({"content": XSS})
            await box.fill(XSS)
            await box.press("Enter")
            first = page.locator(".dcw-list").first
            await expect(first.locator(".dcw-msg.dcw-own.dcw-status-sent").last).to_have_text(
                re.compile(re.escape(XSS))
            )
            newest = first.locator(".dcw-msg")
            count = await newest.count()
            for n in (count - 2, count - 1):  # Grace's, then ours: the newest two
                await expect(newest.nth(n).locator(".dcw-msg-text")).to_have_text(XSS)
                # No element came of it (other tests' messages on this shared server
                # may hold pictures and Markdown: only these two are looked at).
                assert await newest.nth(n).locator("img").count() == 0
                assert await newest.nth(n).locator(".dcw-msg-text *").count() == 0

            # A second view of the same widget asks for the history and shows it.
            await notebook.run_cell(1)
            lists = page.locator(".dcw-list")
            await expect(lists).to_have_count(2)
            await expect(lists.nth(1).locator(".dcw-msg", has_text=theirs)).to_be_visible()
            again = lists.nth(1).locator(".dcw-msg-text")
            await expect(again.last).to_have_text(XSS)
            await expect(again.nth(await again.count() - 2)).to_have_text(XSS)

            # Rooms: make one from the switcher; its message never shows in general.
            room_name = f"room-{uuid.uuid4().hex[:8]}"
            picker = page.locator(".dcw-rooms-input").first
            await picker.fill(room_name)
            await page.locator("button.dcw-rooms-create").first.click()
            await expect(picker).to_have_value(room_name)
            await expect(first.locator(".dcw-msg", has_text=theirs)).to_have_count(0)
            found = await find_room(grace, room_name)
            assert found is not None
            in_b = f"only in {room_name}"
            await grace.create({"content": in_b, "room": found.id})
            await expect(first.locator(".dcw-msg", has_text=in_b)).to_be_visible()
            await picker.fill("general")
            await page.locator("button.dcw-rooms-open").first.click()
            await expect(first.locator(".dcw-msg", has_text=theirs)).to_be_visible()
            late_b, late_a = f"{in_b}, later", f"in general {uuid.uuid4().hex[:8]}"
            await grace.create({"content": late_b, "room": found.id})
            await grace.create({"content": late_a})  # after B's: once shown, B's had its chance
            await expect(first.locator(".dcw-msg", has_text=late_a)).to_be_visible()
            await expect(first.locator(".dcw-msg", has_text=in_b)).to_have_count(0)

            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "widget-browser.png"
            await page.locator(".dcw-chat").first.scroll_into_view_if_needed()
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
            # Give a late onerror handler its chance to fire before the verdict.
            await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            assert dialogs == []
        finally:
            await browser.close()


# -- every mix of cell and click paths, in the JupyterLab that pip brings today --------------


async def two_chats(notebook: LabPage, url: str, filename: str) -> tuple[Any, Any]:
    """Open a notebook of two ChatWidgets in one kernel, ``chat`` and ``other``; their views."""
    name = notebook.lab.write_notebook(filename, chat_cell(url), chat_cell(url, "other"))
    await notebook.open(name)
    await notebook.run_cell(0)
    await notebook.run_cell(1)
    # The kernel imports this checkout's package (labdriver puts it on PYTHONPATH).
    where = await notebook.execute("import directus_chat_widget as d\nprint(d.__file__)")
    assert where.strip().startswith(str(Path(__file__).resolve().parents[1])), where
    chats = notebook.page.locator(".dcw-chat")
    return chats.nth(0), chats.nth(1)


async def expect_logged_out_cleanly(page: Any) -> None:
    from playwright.async_api import expect

    await expect(page.locator(".dcw-login-email input")).to_be_visible()
    await expect(page.locator(".dcw-status-logout")).to_be_hidden()
    await expect(page.locator(".dcw-notice-text")).to_have_count(0)
    await expect(page.locator(".dcw-login-message")).to_have_text("")


@pytest.mark.integration
async def test_form_login_after_a_wrong_password_then_cells_and_clicks_mixed(
    notebook: LabPage, directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    ada = demo_users[0]
    page = notebook.page
    await notebook.open(notebook.lab.write_notebook("mixed.ipynb", chat_cell(directus.url)))
    await notebook.run_cell(0)
    for round_ in range(2):
        await log_in_by_form(page, ada, "not the password")
        await expect(page.locator(".dcw-login-message")).to_have_text("Invalid email or password")
        await log_in_by_form(page, ada)
        await expect(page.locator(".dcw-list")).to_be_visible()
        # From a cell, after a login that a click started: returns, and shows.
        text = f"cell after form login {round_} {uuid.uuid4().hex[:6]}"
        printed = await notebook.execute(
            f"sent = await chat.send_message({text!r})\nprint(sent.status.value)"
        )
        assert printed.strip() == "sent"
        await expect(
            page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=text)
        ).to_be_visible()
        # Then Logout by click: the form comes back, with no error.
        await page.locator(".dcw-status-logout").click()
        await expect_logged_out_cleanly(page)
        state = await notebook.execute("print(chat.stage, repr(chat.last_error))")
        assert state.strip() == "login ''"


@pytest.mark.integration
async def test_cell_login_then_logout_click_and_two_widgets_in_one_kernel(
    notebook: LabPage, directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    ada, grace = demo_users
    page = notebook.page
    name = notebook.lab.write_notebook(
        "two.ipynb", chat_cell(directus.url), chat_cell(directus.url, "other")
    )
    await notebook.open(name)
    await notebook.run_cell(0)
    await notebook.run_cell(1)
    first, second = page.locator(".dcw-chat").nth(0), page.locator(".dcw-chat").nth(1)
    await notebook.execute(f"await chat.login({ada.email!r}, {ada.password!r})")
    await expect(first.locator(".dcw-status-user")).to_contain_text(ada.first_name)
    # The second widget logs in by its form, and sends by typing.
    await log_in_by_form(second, grace)
    await expect(second.locator(".dcw-status-user")).to_contain_text(grace.first_name)
    text = f"typed by Grace {uuid.uuid4().hex[:6]}"
    box = second.locator(".dcw-form-input")
    await box.fill(text)
    await box.press("Enter")
    await expect(first.locator(".dcw-msg:not(.dcw-own)", has_text=text)).to_be_visible()
    printed = await notebook.execute(
        f"print(sum(m.content == {text!r} for m in chat.messages), other.messages[-1].status.value)"
    )
    assert printed.split() == ["1", "sent"]
    # Logout by click from a cell login; the other widget is untouched.
    await first.locator(".dcw-status-logout").click()
    await expect(first.locator(".dcw-login-email input")).to_be_visible()
    await expect(first.locator(".dcw-notice-text")).to_have_count(0)
    await expect(second.locator(".dcw-status-logout")).to_be_visible()
    assert (await notebook.execute("print(chat.stage, other.stage)")).split() == ["login", "chat"]
    # The kernel restarts: the old views can no longer be updated, and say so.
    await page.evaluate("() => window.dcwNotebook.sessionContext.session.kernel.restart()")
    for view in (first, second):
        await expect(view.locator(".dcw-status-state")).to_contain_text("kernel restarted")
        await expect(view.locator(".dcw-status-logout")).to_be_hidden()


@pytest.mark.integration
async def test_shift_enter_makes_a_two_line_message(
    notebook: LabPage, directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    page = notebook.page
    await notebook.open(notebook.lab.write_notebook("lines.ipynb", chat_cell(directus.url)))
    await notebook.run_cell(0)
    await log_in_by_form(page, demo_users[0])
    box = page.locator(".dcw-form-input")
    await expect(box).to_be_focused()  # focus goes to the composer after login
    tag = uuid.uuid4().hex[:6]
    await box.press_sequentially(f"first line {tag}")
    await box.press("Shift+Enter")
    await box.press_sequentially("second line")
    await expect(box).to_have_value(f"first line {tag}\nsecond line")
    await box.press("Enter")
    shown = page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=tag)
    await expect(shown.locator(".dcw-msg-text")).to_have_text(f"first line {tag}\nsecond line")
    stored = await notebook.execute(
        f"print(repr([m.content for m in chat.messages if {tag!r} in m.content]))"
    )
    assert stored.strip() == repr([f"first line {tag}\nsecond line"])


@pytest.mark.integration
async def test_create_an_account_by_click_then_chat(
    notebook: LabPage, directus: LocalDirectus
) -> None:
    from playwright.async_api import expect

    page = notebook.page
    await notebook.open(notebook.lab.write_notebook("signup.ipynb", chat_cell(directus.url)))
    await notebook.run_cell(0)
    await expect(page.locator(".dcw-login-name")).to_be_hidden()
    await page.locator("button.dcw-login-toggle", has_text="Create an account").click()
    await expect(page.locator("button.dcw-login-button")).to_have_text("Create account")
    tag = uuid.uuid4().hex[:8]
    secret = f"new-account-secret-{tag}"
    await page.locator(".dcw-login-name input").fill("Newt")
    await page.locator(".dcw-login-email input").fill(f"newt-{tag}@example.com")
    await page.locator(".dcw-login-password input").fill(secret)
    await page.locator("button.dcw-login-button").click()
    box = page.locator(".dcw-form-input")
    await expect(box).to_be_focused()  # logged in with the new account
    await expect(page.locator(".dcw-status")).to_contain_text("Newt")
    await box.press_sequentially(f"hello from a new account {tag}")
    await box.press("Enter")
    await expect(
        page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=f"new account {tag}")
    ).to_be_visible()
    shown = await notebook.execute(
        "import json\nstate = json.dumps(chat.login_form.get_state(), default=str)\n"
        f"print({secret!r} in state, chat.login_form.mode)"
    )
    assert shown.strip() == "False login"


@pytest.mark.integration
async def test_typing_during_an_outage_loses_nothing(
    notebook: LabPage, make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    server = make_directus()
    ada = demo_users[0]
    page = notebook.page
    await notebook.open(notebook.lab.write_notebook("outage.ipynb", chat_cell(server.url)))
    await notebook.run_cell(0)
    await log_in_by_form(page, ada)
    box = page.locator(".dcw-form-input")
    await expect(box).to_be_focused()
    await asyncio.to_thread(server.kill)
    await expect(page.locator(".dcw-status-state")).to_contain_text("reconnecting")
    text = f"typed slowly while the server is down {uuid.uuid4().hex[:8]} abcdefghij"[:60]
    await box.press_sequentially(text, delay=80)  # 4.8 s of reconnect attempts meanwhile
    await expect(box).to_have_value(text)
    await expect(box).to_be_focused()
    await box.press("Enter")
    await expect(page.locator(".dcw-msg.dcw-own", has_text=text)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator(".dcw-chat").screenshot(path=str(ARTIFACTS / "widget-during-outage.png"))
    await asyncio.to_thread(server.start)
    await expect(page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=text)).to_be_visible(
        timeout=6 * MS
    )
    await expect(page.locator(".dcw-status-state")).to_contain_text("connected")
    await expect(page.locator(".dcw-notice-text")).to_have_count(0)
    reader = RealtimeSession(server.url)
    try:
        await reader.login(demo_users[1].email, demo_users[1].password)
        rows = await reader.read("messages", {"filter": {"content": {"_eq": text}}})
    finally:
        await reader.close()
    assert len(rows) == 1
    await page.locator(".dcw-chat").screenshot(path=str(ARTIFACTS / "widget-after-outage.png"))


# Every element inside ``selector`` that pokes out of it sideways or is cut short.
OVERFLOW_JS = """(selector) => {
    const root = document.querySelector(selector);
    const edge = root.getBoundingClientRect();
    const found = [];
    for (const node of root.querySelectorAll("*")) {
        if (!node.getClientRects().length) continue;
        const box = node.getBoundingClientRect();
        const name = `${node.tagName.toLowerCase()}.${node.className}`;
        if (box.left < edge.left - 1 || box.right > edge.right + 1) {
            found.push(`${name}: ${box.left}-${box.right} not in ${edge.left}-${edge.right}`);
        }
        if (node.scrollWidth > node.clientWidth + 1 && node.tagName !== "TEXTAREA") {
            found.push(`${name} is cut: ${node.scrollWidth} wide in ${node.clientWidth}`);
        }
    }
    return found;
}"""

NARROW = """(width) => {
    for (const chat of document.querySelectorAll(".dcw-chat")) chat.style.width = width;
}"""


@pytest.mark.integration
async def test_dark_theme_narrow_width_and_a_hidden_tab(
    notebook: LabPage, directus: LocalDirectus, grace: RealtimeSession, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    page = notebook.page
    await notebook.open(notebook.lab.write_notebook("looks.ipynb", chat_cell(directus.url)))
    await notebook.run_cell(0)
    ARTIFACTS.mkdir(exist_ok=True)

    # 420 px, before and after login: nothing sticks out or is cut.
    await page.evaluate(NARROW, "420px")
    await expect(page.locator(".dcw-login-email input")).to_be_visible()
    assert await page.evaluate(OVERFLOW_JS, ".dcw-chat") == []
    await log_in_by_form(page, demo_users[0])
    await expect(page.locator(".dcw-status-user")).to_contain_text("Ada")
    tag = uuid.uuid4().hex[:6]
    await grace.create({"content": f"Grace at 420 px {tag} " + "long" * 40})
    box = page.locator(".dcw-form-input")
    await box.fill(f"Ada at 420 px {tag}")
    await box.press("Enter")
    await expect(page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=tag)).to_be_visible()
    assert await page.evaluate(OVERFLOW_JS, ".dcw-chat") == []
    await page.locator(".dcw-chat").screenshot(path=str(ARTIFACTS / "widget-420px.png"))

    # Light, then dark: both bubble kinds (and the status line) read at 4.5:1 or more.
    for theme, shot in (
        ("JupyterLab Light", "widget-light.png"),
        ("JupyterLab Dark", "widget-dark.png"),
    ):
        await notebook.command("apputils:change-theme", {"theme": theme})
        light = "true" if theme.endswith("Light") else "false"
        await page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached")
        await page.evaluate(NARROW, "")
        await page.wait_for_timeout(300)  # the theme's stylesheet applies
        for selector in (
            ".dcw-msg.dcw-own .dcw-msg-text",
            ".dcw-msg:not(.dcw-own) .dcw-msg-text",
            ".dcw-status-state",
            ".dcw-status-user",
            ".dcw-form-input",
        ):
            measured = await page.evaluate(CONTRAST_JS, selector)
            assert measured, f"{selector}: nothing drawn in {theme}"
            worst = min(measured, key=lambda entry: entry["ratio"])
            assert worst["ratio"] >= 4.5, (theme, selector, worst)
        await page.locator(".dcw-chat").screenshot(path=str(ARTIFACTS / shot))
    await notebook.command("apputils:change-theme", {"theme": "JupyterLab Light"})

    # A hidden tab that receives 30 messages shows the bottom (or the marker) on return.
    scroller = page.locator(".dcw-list-scroller")
    await scroller.evaluate("(s) => { s.scrollTop = s.scrollHeight; }")
    await notebook.command("launcher:create")
    await expect(page.locator(".dcw-list")).to_be_hidden()
    last = ""
    for n in range(30):
        last = f"while hidden {tag} {n:02d}"
        await grace.create({"content": last})
    await notebook.execute(
        f"import asyncio\nwhile not any(m.content == {last!r} for m in chat.messages):"
        "\n    await asyncio.sleep(0.05)"
    )
    await page.evaluate("() => window.jupyterapp.shell.activateById(window.dcwNotebook.id)")
    await expect(page.locator(".dcw-list")).to_be_visible()
    # The reader was at the bottom when the tab went away: the view follows it.
    await page.wait_for_function(
        """(text) => {
            const node = [...document.querySelectorAll(".dcw-msg")].find(
                (each) => each.textContent.includes(text));
            if (!node) return false;
            const view = node.closest(".dcw-list-scroller").getBoundingClientRect();
            const box = node.getBoundingClientRect();
            return box.height > 0 && box.bottom <= view.bottom + 1 && box.top >= view.top - 1;
        }""",
        arg=last,
        timeout=3 * MS,
    )


@pytest.mark.integration
async def test_edit_and_delete_own_messages_live_in_two_users_views(
    notebook: LabPage, directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    ada, grace = demo_users
    page = notebook.page
    mine, theirs = await two_chats(notebook, directus.url, "edits.ipynb")
    await notebook.execute(
        f"await chat.login({ada.email!r}, {ada.password!r})\n"
        f"await other.login({grace.email!r}, {grace.password!r})"
    )
    tag = uuid.uuid4().hex[:6]
    first, second = f"to edit by click {tag}", f"to edit from a cell {tag}"
    await notebook.execute(
        f"a = await chat.send_message({first!r})\nb = await chat.send_message({second!r})"
    )
    adas = theirs.locator(".dcw-msg", has_text=first)
    await expect(adas).to_be_visible()
    # Grace is offered nothing on Ada's messages; Ada is, on her own.
    await adas.hover()
    for button in (".dcw-msg-edit", ".dcw-msg-delete"):
        await expect(theirs.locator(f".dcw-msg:not(.dcw-own) {button}:visible")).to_have_count(0)
    own = mine.locator(".dcw-msg.dcw-own", has_text=first)
    await expect(own.locator(".dcw-msg-edit")).to_be_visible()

    # Edit by click: Escape cancels, Enter saves; Grace's view follows live.
    await own.hover()
    await own.locator(".dcw-msg-edit").click()
    editor = own.locator("textarea.dcw-msg-editor")
    await expect(editor).to_be_focused()
    await editor.fill("never saved")
    await editor.press("Escape")
    await expect(editor).to_have_count(0)
    await expect(own.locator(".dcw-msg-edit")).to_be_focused()  # back where it was
    await own.locator(".dcw-msg-edit").press("Enter")  # the keyboard opens it too
    await expect(editor).to_be_focused()
    await editor.fill(f"edited by click **{tag}**")
    await editor.press("Enter")
    edited = theirs.locator(".dcw-msg.dcw-edited", has_text=f"edited by click {tag}")
    await expect(edited.locator(".dcw-msg-text strong")).to_have_text(tag)
    await expect(edited.locator(".dcw-msg-edited")).to_be_visible()
    await expect(mine.locator(".dcw-msg.dcw-own.dcw-edited .dcw-msg-edited")).to_have_count(1)
    await expect(theirs.locator(".dcw-msg", has_text="never saved")).to_have_count(0)

    # Edit from a cell, to markup: both views show it as text.
    await notebook.execute(f"await chat.edit_message(b, {XSS + ' ' + tag!r})")
    for view in (mine, theirs):
        shown = view.locator(".dcw-msg.dcw-edited", has_text=tag).last
        await expect(shown.locator(".dcw-msg-text")).to_have_text(f"{XSS} {tag}")
    assert await page.locator(".dcw-list img").count() == 0

    # Delete by click (it asks once more): gone from both views.
    target = mine.locator(".dcw-msg.dcw-own", has_text=f"edited by click {tag}")
    await target.hover()
    await target.locator(".dcw-msg-delete").click()
    await expect(target.locator(".dcw-msg-delete")).to_have_text("Delete?")
    await target.locator(".dcw-msg-delete").click()
    for view in (mine, theirs):
        await expect(view.locator(".dcw-msg", has_text=f"edited by click {tag}")).to_have_count(0)
    left = await notebook.execute(
        f"print(sum({tag!r} in m.content for m in chat.messages),"
        f" sum({tag!r} in m.content for m in other.messages))"
    )
    assert left.split() == ["1", "1"]
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator(".dcw-chat").first.screenshot(path=str(ARTIFACTS / "widget-edits.png"))
