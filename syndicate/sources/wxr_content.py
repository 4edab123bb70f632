"""A WordPress post's stored content → the HTML WordPress would show.

WordPress stores what the editor wrote, not what it serves: the classic editor's
paragraphs are blank lines that `wpautop` turns into <p> at display time, and
images with captions are `[caption]` shortcodes. Block-editor content (it holds
`<!-- wp:` comments) is already HTML and gets no paragraphs added, as in
WordPress. The built-in shortcodes that need WordPress's database to render
(playlist, and a gallery whose images are not in the export) are left as text
and counted, so the import can say so. A `[gallery]` becomes a <figure> of its images when the export
holds them (its `ids`, else the media attached to the post); `[audio]` and
`[video]` become links to their files.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

# Tags that start a block of their own: the classic editor's text around them is not wrapped in <p>.
_BLOCK_START = re.compile(
    r"^<(?:address|article|aside|blockquote|dd|details|div|dl|dt|figcaption|figure|footer|form|h[1-6]|header|hr"
    r"|iframe|li|nav|ol|p|pre|section|table|tbody|td|tfoot|th|thead|tr|ul|script|style|object|video|audio"
    r"|!--)[\s/>]",
    re.I,
)
_PRE = re.compile(r"<pre\b.*?</pre>", re.I | re.S)
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_CAPTION = re.compile(r"\[caption\b([^\]]*)\](.*?)\[/caption\]", re.I | re.S)
_CAPTIONED = re.compile(r"^\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", re.I | re.S)
_CAPTION_ATTRIBUTE = re.compile(r"""\bcaption\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_EMBED = re.compile(r"\[embed\b[^\]]*\]\s*(https?://[^\s\[<]+)\s*\[/embed\]", re.I)
_UNRENDERED = re.compile(r"\[(gallery|audio|video|playlist)\b[^\]]*\]", re.I)
_BARE_URL = re.compile(r"https?://[^\s<>\"']+")
_GALLERY = re.compile(r"\[gallery\b([^\]]*)\]", re.I)
_MEDIA = re.compile(r"\[(audio|video)\b([^\]]*)\](?:\s*\[/\1\])?", re.I)
_ATTRIBUTE = re.compile(r"""\b([a-z0-9_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'\]]+))""", re.I)
_MEDIA_SOURCES = ("src", "mp3", "m4a", "ogg", "wav", "mp4", "m4v", "webm", "ogv", "wmv", "flv")

# The images of a gallery: its `ids` attribute (None when it has none) → their URLs.
GalleryImages = Callable[[Sequence[str] | None], Sequence[str]]


def wordpress_html(raw: str, gallery: GalleryImages = lambda ids: ()) -> tuple[str, tuple[str, ...]]:
    """The content as HTML, and the names of shortcodes left as text (such as "playlist")."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _CAPTION.sub(_figure, text)
    text = _GALLERY.sub(lambda m: _gallery(m, gallery), text)
    text = _MEDIA.sub(_media_link, text)
    text = _EMBED.sub(lambda m: f'<p><a href="{html.escape(m.group(1))}">{html.escape(m.group(1))}</a></p>', text)
    left = tuple(sorted({m.group(1).lower() for m in _UNRENDERED.finditer(text)}))
    if "<!-- wp:" in text:
        return text, left
    return autop(text), left


def autop(text: str) -> str:
    """Blank-line paragraphs as <p>, single newlines inside one as <br>: the heart of WordPress's wpautop.

    <pre> blocks are kept whole, and chunks that already start with a block tag are left as they are.
    """
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    chunks = []
    for chunk in _PARAGRAPHS.split(_PRE.sub(hold, text)):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _BLOCK_START.match(chunk) or re.fullmatch(r"\x00\d+\x00", chunk):
            chunks.append(chunk)
        elif _BARE_URL.fullmatch(chunk):  # a URL alone in its paragraph: WordPress embeds it; a link here
            chunks.append(f'<p><a href="{html.escape(chunk)}">{html.escape(chunk)}</a></p>')
        else:
            chunks.append("<p>" + chunk.replace("\n", "<br>\n") + "</p>")
    joined = "\n".join(chunks)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], joined)


def _figure(match: re.Match[str]) -> str:
    attributes, inner = match.group(1), match.group(2)
    found = _CAPTIONED.match(inner)
    if found is None:
        return inner
    image, caption = found.group(1), found.group(2).strip()
    if not caption:
        named = _CAPTION_ATTRIBUTE.search(attributes)
        caption = html.escape(html.unescape(named.group(1) or named.group(2))) if named else ""
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{image}{figcaption}</figure>"


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTRIBUTE.finditer(text)}


def _gallery(match: re.Match[str], images: GalleryImages) -> str:
    ids = _attributes(match.group(1)).get("ids")
    urls = images([i.strip() for i in ids.split(",") if i.strip()] if ids else None)
    if not urls:
        return match.group(0)
    pictures = "".join(f'<img src="{html.escape(url)}" alt="">' for url in urls)
    return f'<figure class="gallery">{pictures}</figure>'


def _media_link(match: re.Match[str]) -> str:
    attributes = _attributes(match.group(2))
    url = next((attributes[k] for k in _MEDIA_SOURCES if attributes.get(k, "").startswith(("http://", "https://"))), "")
    if not url:
        return match.group(0)
    label = "Listen" if match.group(1).lower() == "audio" else "Watch"
    return f'<p><a href="{html.escape(url)}">{label}: {html.escape(url.rsplit("/", 1)[-1])}</a></p>'
