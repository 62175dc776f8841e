"""Attachments without a server: what is an image, what goes up, what a view is sent.

Pure: checking files (size, type from the bytes), SVG sanitizing, what
``post(obj)`` makes of each kind of object, rows and the store with files, the
list's wire, and thumbnails with and without Pillow. A kind whose optional
library (Pillow, matplotlib, pandas) is missing is skipped, saying which.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from pictures import gif_header, jpeg_header, noisy_png, png, svg

from directus_chat_widget.chat import MessageStore
from directus_chat_widget.chat._convert import to_post
from directus_chat_widget.chat._images import MAX_PIXELS, inspect_image
from directus_chat_widget.chat._rows import parse_row
from directus_chat_widget.chat._svg import sanitize_svg
from directus_chat_widget.chat.attachments import (
    AttachmentRefused,
    clean_name,
    prepare_upload,
    read_upload,
)
from directus_chat_widget.chat.message import Attachment
from directus_chat_widget.widget import MessageList
from directus_chat_widget.widget._thumbs import FALLBACK_THUMB_BYTES, THUMB_PX, look_at, thumbnail

MB = 1024 * 1024


@pytest.fixture
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow cannot be imported (as where the ``images`` extra is not installed)."""
    for name in [n for n in sys.modules if n == "PIL" or n.startswith("PIL.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "PIL", None)


# -- what is an image ------------------------------------------------------------------


def test_image_type_and_size_come_from_the_bytes() -> None:
    assert inspect_image(png(30, 20)) == ("image/png", 30, 20)
    assert inspect_image(b"\x89PNG\r\n\x1a\n" + b"junk" * 10) is None
    assert inspect_image(b"GIF89a") is None  # cut short in the header
    assert inspect_image(b"<html>hello</html>") is None


def test_headers_alone_without_pillow(no_pillow: None) -> None:
    assert inspect_image(gif_header(7, 9)) == ("image/gif", 7, 9)
    assert inspect_image(jpeg_header(640, 480)) == ("image/jpeg", 640, 480)
    assert inspect_image(png(3, 2)) == ("image/png", 3, 2)


def test_a_canvas_of_billions_of_pixels_is_no_image() -> None:
    side = int(MAX_PIXELS**0.5) + 10
    assert inspect_image(gif_header(side, side)) is None
    assert inspect_image(gif_header(0, 10)) is None


def test_with_pillow_every_format_is_read_and_verified() -> None:
    image_module = pytest.importorskip("PIL.Image", reason="Pillow (the images extra)")
    for fmt, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif")):
        out = io.BytesIO()
        image_module.new("RGB", (33, 21), (10, 200, 30)).save(out, format=fmt)
        assert inspect_image(out.getvalue()) == (mime, 33, 21), fmt
    out = io.BytesIO()
    image_module.new("RGBA", (5, 4)).save(out, format="WEBP")
    assert inspect_image(out.getvalue()) == ("image/webp", 5, 4)
    broken = bytearray(png(40, 40))
    broken[-20] ^= 0xFF  # a damaged chunk: the header reads fine, the CRC does not
    assert inspect_image(bytes(broken)) is None


# -- what may go up --------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_with_both_sizes() -> None:
    with pytest.raises(AttachmentRefused, match=r"big\.bin is 2\.0 MB.*largest .* 1\.0 MB"):
        prepare_upload(b"x" * (2 * MB), "big.bin", max_bytes=MB)
    with pytest.raises(AttachmentRefused, match="empty"):
        prepare_upload(b"", "nothing.txt")


def test_a_50_mb_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as out:
        out.truncate(50 * MB)  # sparse: 50 MB to stat, nothing on disk

    def never(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", never)
    with pytest.raises(AttachmentRefused, match=r"huge\.png is 50\.0 MB"):
        read_upload(big)


def test_an_image_that_is_not_an_image_is_refused() -> None:
    for name, mime in (("photo.png", None), ("photo.jpg", None), ("pic", "image/png")):
        with pytest.raises(AttachmentRefused, match="not an image"):
            prepare_upload(b"just some text, honestly", name, mime=mime)
    with pytest.raises(AttachmentRefused, match="not a usable SVG"):
        prepare_upload(b"<svg><script>", "drawing.svg")


def test_an_images_type_is_its_bytes_and_other_files_are_files() -> None:
    upload = prepare_upload(png(4, 3), "really-a-png.jpg")
    assert (upload.mime, upload.width, upload.height, upload.is_image) == ("image/png", 4, 3, True)
    assert upload.attachment() == Attachment(
        None, "really-a-png.jpg", "image/png", upload.size, 4, 3
    )
    notes = prepare_upload(b"a,b\n1,2\n", "results.csv")
    assert (notes.mime, notes.is_image) == ("text/csv", False)
    svg_text = prepare_upload(svg('<script>alert(1)</script><circle r="3"/>'), "x.svg")
    assert svg_text.mime == "image/svg+xml" and b"script" not in svg_text.data
    # SVG inside a file that does not say it is one stays a file, untouched.
    assert prepare_upload(svg(), "notes.txt").mime == "text/plain"


def test_names_lose_paths_and_invisible_characters() -> None:
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\ada\\plot.png") == "plot.png"
    assert clean_name("evil\u202egnp.exe") == "evil gnp.exe"  # no right-to-left override
    assert clean_name("a\x00b\nc.txt") == "a b c.txt"
    assert clean_name("...") == "attachment"
    long = clean_name("x" * 300 + ".tar.gz")
    assert len(long) == 120 and long.endswith(".gz")


# -- SVG ---------------------------------------------------------------------------------


HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' onload="alert(1)"><script>alert(2)</script><style>@import url(http://e/x.css)</style>'
    b'<a href="javascript:alert(3)"><rect width="5" height="5"/></a>'
    b'<rect width="3" height="3" style="fill:url(http://e/p)" fill="url(#grad)"/>'
    b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
    b'<image href="http://e/i.png"/><use xlink:href="http://e/s.svg#a"/>'
    b'<use xlink:href="#shape"/><circle r="2" onclick="alert(4)"/></svg>'
)


def test_svg_keeps_shapes_and_loses_script_handlers_and_outside_references() -> None:
    clean = sanitize_svg(HOSTILE_SVG).decode()
    for gone in ("script", "alert", "onload", "onclick", "style>", "foreignObject", "image",
                 "http://e", "javascript", "<a "):  # fmt: skip
        assert gone not in clean, gone
    assert 'fill="url(#grad)"' in clean and 'xlink:href="#shape"' in clean
    assert "<circle" in clean and 'xmlns="http://www.w3.org/2000/svg"' in clean


@pytest.mark.parametrize(
    "bad",
    [
        b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect>',
        b"<html><body/></html>",
        b"<svg/>",  # not in the SVG namespace
    ],
)
def test_svg_that_cannot_be_made_safe_is_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        sanitize_svg(bad)


# -- post(obj) ---------------------------------------------------------------------------


class ReprPNG:
    def _repr_png_(self) -> bytes:
        return png(6, 5)


class ReprSVG:
    def _repr_svg_(self) -> str:
        return svg('<circle r="4" onmouseover="alert(1)"/>').decode()


class ReprMarkdown:
    def _repr_markdown_(self) -> tuple[str, dict[str, Any]]:
        return "**bold** result", {}


def test_post_makes_text_files_and_images_of_objects(tmp_path: Path) -> None:
    assert to_post("plain *text*").text == "plain *text*" and to_post("x").upload is None
    made = to_post(ReprPNG())
    assert made.upload is not None and made.upload.mime == "image/png" and made.text == "image.png"
    made = to_post(ReprSVG(), name="circle.svg")
    assert made.upload is not None and made.upload.mime == "image/svg+xml"
    assert b"onmouseover" not in made.upload.data and made.text == "circle.svg"
    assert to_post(ReprMarkdown()).text == "**bold** result"
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    made = to_post(path)
    assert made.upload is not None and (made.upload.name, made.upload.data) == (
        "notes.txt",
        b"hello",
    )
    made = to_post(png(2, 2), name="raw.png")
    assert made.upload is not None and made.upload.is_image
    with pytest.raises(TypeError, match="cannot post a object"):
        to_post(object())
    with pytest.raises(AttachmentRefused):
        to_post(png(50, 50), name="big.png", max_bytes=100)


def test_post_a_matplotlib_figure_as_png() -> None:
    pytest.importorskip("matplotlib", reason="matplotlib (the plots extra)")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    axes = figure.add_subplot()
    axes.plot([0, 1, 2], [0, 1, 4])
    for obj in (figure, axes):
        made = to_post(obj)
        assert made.upload is not None and made.upload.mime == "image/png"
        assert made.text == "figure.png" and (made.upload.width or 0) > 100


def test_post_a_dataframe_as_a_table_of_its_first_rows() -> None:
    pd = pytest.importorskip("pandas", reason="pandas (the tables extra)")
    frame = pd.DataFrame(
        {"x|y": range(25), "note": ["a*b $5"] * 25, **{f"c{i}": 0 for i in range(9)}}
    )
    text = to_post(frame).text
    lines = text.splitlines()
    assert lines[0].startswith("|  | x\\|y | note |") and len(lines[0].split(" | ")) == 9
    assert sum(line.startswith("| **") for line in lines) == 10
    assert lines[-1] == "*25 rows by 11 columns (showing 10 of 25 rows, 8 of 11 columns)*"
    assert "a\\*b \\$5" in text  # Markdown and math in cells stay text
    assert "3 rows by 1 columns" in to_post(pd.Series([1, 2, 3])).text


# -- rows, the store and the list's wire ----------------------------------------------------


def row(n: int, attachment: Any) -> dict[str, Any]:
    return {
        "id": n,
        "content": "plot.png",
        "user_created": {"id": "u-ada"},
        "attachment": attachment,
    }


def test_rows_carry_their_file_and_a_bare_id_keeps_what_is_known() -> None:
    described = {"id": "f1", "filename_download": "plot.png", "type": "image/png",
                 "filesize": 1234, "width": 64, "height": 48}  # fmt: skip
    parsed = parse_row(row(1, described))
    assert parsed is not None and parsed.attachment == Attachment(
        "f1", "plot.png", "image/png", 1234, 64, 48
    )
    assert parse_row(row(2, None)).attachment is None  # type: ignore[union-attr]
    assert parse_row(row(3, {"id": 7})).attachment is None  # type: ignore[union-attr]
    store = MessageStore(own_id="u-ada")
    pending = Attachment(None, "plot.png", "image/png", 1234, 64, 48)
    key = store.add_pending("plot.png", {"id": "u-ada"}, pending).messages[0].key
    store.confirm(key, row(4, "f9"))  # a create's reply names the file by id alone
    confirmed = store.get(key)
    assert confirmed is not None and confirmed.attachment == Attachment(
        "f9", "plot.png", "image/png", 1234, 64, 48
    )


def test_the_wire_says_what_file_a_message_has_and_parts_get_their_messages() -> None:
    shown = MessageList()
    described = {"id": "f1", "filename_download": "data.csv", "type": "text/csv", "filesize": 10}
    shown.apply(MessageStore().add_rows([row(1, described), row(2, None)]))
    first, second = shown.wire()
    assert first["attachment"] == {
        "name": "data.csv", "mime": "text/csv", "image": False, "size": 10,
        "width": None, "height": None,
    }  # fmt: skip
    assert second["attachment"] is None
    got: list[tuple[dict[str, Any], list[Any]]] = []
    shown.handle("attachment", lambda content, buffers: got.append((content, buffers)))
    shown._on_frontend_msg(shown, {"type": "attachment", "key": "id:1"}, [b"x"])
    shown._on_frontend_msg(shown, {"type": "something-else"}, [])
    assert got == [({"type": "attachment", "key": "id:1"}, [b"x"])]


# -- what a view receives ----------------------------------------------------------------------


def test_a_file_declared_an_image_reaches_a_view_as_a_plain_file() -> None:
    looked = look_at(b"<script>alert(1)</script>", "image/png")
    assert (looked.mime, looked.image) == ("application/octet-stream", False)
    assert thumbnail(looked) is None
    scripted = svg("<script>alert(1)</script>")
    assert look_at(scripted, "image/svg+xml").data == sanitize_svg(scripted)
    assert look_at(scripted, "text/plain").image is False  # SVG only when declared so


def test_thumbnails_with_pillow_are_small() -> None:
    pytest.importorskip("PIL.Image", reason="Pillow (the images extra)")
    from PIL import Image

    large = look_at(png(900, 600), "image/png")
    small = thumbnail(large)
    assert small is not None and small.image
    with Image.open(io.BytesIO(small.data)) as opened:
        assert max(opened.size) == THUMB_PX and opened.size[0] > opened.size[1]
    tiny = look_at(png(8, 8), "image/png")
    assert thumbnail(tiny) == tiny  # no larger than a thumbnail: sent as it is


def test_thumbnails_without_pillow_are_the_image_itself_when_small(no_pillow: None) -> None:
    small = look_at(png(64, 64), "image/png")
    assert thumbnail(small) == small
    noisy = look_at(noisy_png(400, 400), "image/png")
    assert len(noisy.data) > FALLBACK_THUMB_BYTES and thumbnail(noisy) is None
