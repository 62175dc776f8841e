"""SVG made safe to keep and show: an allow-list over the XML tree. Pure (standard library).

Why sanitize rather than rasterize: turning SVG into pixels needs a renderer
(cairo, resvg) that the kit does not want to require, and a plot stays sharp
as a vector. The browser only ever shows an attachment through ``<img>``,
where SVG runs no script and loads nothing, but the file is also stored on
the server and may be downloaded and opened on its own; so what goes up, and
what a view receives, is rebuilt from allowed elements and attributes only:

- shapes, text, groups, gradients, clip paths, markers and masks: no
  ``script``, ``foreignObject``, ``image``, ``a``, ``animate``/``set``,
  ``style`` elements (CSS can fetch), event handlers or unknown attributes;
- references (``href``, ``xlink:href``, ``url(...)`` in any value) only to
  ``#id`` inside the same document;
- no DOCTYPE (so no entities, no external anything): it is refused outright.

The result is a fresh, namespaced SVG document, or :class:`ValueError`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["MAX_SVG_BYTES", "is_svg", "sanitize_svg"]

MAX_SVG_BYTES = 2_000_000
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

_ELEMENT_NAMES = (
    "svg g defs symbol use title desc path rect circle ellipse line polyline polygon text "
    "tspan textPath clipPath mask marker linearGradient radialGradient stop pattern"
)
_ATTRIBUTE_NAMES = (
    "id class x y x1 y1 x2 y2 cx cy r rx ry width height d points transform viewBox "
    "preserveAspectRatio fill fill-opacity fill-rule stroke stroke-width stroke-opacity "
    "stroke-linecap stroke-linejoin stroke-dasharray stroke-dashoffset stroke-miterlimit "
    "opacity color clip-path clip-rule mask marker-start marker-mid marker-end "
    "font-family font-size font-weight font-style text-anchor dominant-baseline "
    "letter-spacing dx dy rotate textLength lengthAdjust offset stop-color stop-opacity "
    "gradientUnits gradientTransform spreadMethod fx fy clipPathUnits maskUnits "
    "maskContentUnits markerWidth markerHeight markerUnits orient refX refY patternUnits "
    "patternContentUnits patternTransform visibility display version style"
)
_ELEMENTS = frozenset(_ELEMENT_NAMES.split())
_ATTRIBUTES = frozenset(_ATTRIBUTE_NAMES.split())
_MATPLOTLIB_DOCTYPE = rb'<!DOCTYPE svg PUBLIC "[^"<>\[\]]*"\s*"[^"<>\[\]]*">'
_HREFS = ("href", f"{{{XLINK_NS}}}href")
_URL = re.compile(r"url\s*\(\s*['\"]?\s*([^)'\"]*)", re.IGNORECASE)
_STYLE_RISKS = re.compile(r"@import|expression\s*\(|\\|javascript:|behavior\s*:", re.IGNORECASE)


def is_svg(data: bytes) -> bool:
    """Whether ``data`` looks like an SVG document (its root element is ``svg``)."""
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<svg", b"<?xml")) and b"<svg" in head


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _safe_value(value: str) -> bool:
    """No reference leaves the document, and no CSS trick hides in it."""
    if _STYLE_RISKS.search(value):
        return False
    return all(target.strip().startswith("#") for target in _URL.findall(value))


def _clean(node: ET.Element) -> ET.Element | None:
    if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{SVG_NS}}}"):
        return None  # comments, processing instructions, other namespaces
    name = _local(node.tag)
    if name not in _ELEMENTS:
        return None
    clean = ET.Element(f"{{{SVG_NS}}}{name}")
    for key, value in node.attrib.items():
        if key in _HREFS:
            if value.strip().startswith("#") and len(value) < 256:
                clean.set(f"{{{XLINK_NS}}}href", value.strip())
        elif key in _ATTRIBUTES and _safe_value(value):
            clean.set(key, value)
    clean.text = node.text
    for child in node:
        kept = _clean(child)
        if kept is not None:  # the text after a dropped child goes with it
            kept.tail = child.tail
            clean.append(kept)
    return clean


def sanitize_svg(data: bytes | str) -> bytes:
    """``data`` rebuilt from the allowed parts of SVG only, as UTF-8 XML.

    Raises:
        ValueError: larger than :data:`MAX_SVG_BYTES`, not well-formed XML,
            with a DOCTYPE, or whose root is not an SVG ``svg`` element.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_SVG_BYTES:
        raise ValueError(f"the SVG is {len(raw):,} bytes; the limit is {MAX_SVG_BYTES:,}")
    if b"<!DOCTYPE" in raw[:4096].upper() or b"<!ENTITY" in raw.upper():
        # Matplotlib writes a harmless SVG 1.1 DOCTYPE: drop that one, refuse any other.
        raw = re.sub(_MATPLOTLIB_DOCTYPE, b"", raw, count=1)
        if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
            raise ValueError("an SVG with a DOCTYPE or entities is refused")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise ValueError(f"not a well-formed SVG document: {exc}") from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ValueError("not an SVG document: its root is not an <svg> element")
    clean = _clean(root)
    assert clean is not None
    # Prefixes are process-wide in ElementTree; these are the standard ones.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    written: bytes = ET.tostring(clean, encoding="utf-8", xml_declaration=True)
    return written
