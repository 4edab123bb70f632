"""A WordPress post's stored content → the HTML WordPress would show.

WordPress stores what the editor wrote, not what it serves: the classic editor's
paragraphs are blank lines that `wpautop` turns into <p> at display time, and
images with captions are `[caption]` shortcodes. Block-editor content (it holds
`<!-- wp:` comments) is already HTML and gets no paragraphs added, as in
WordPress. The built-in shortcodes that need WordPress's database to render
(gallery, audio, video, playlist) are left as text and counted, so the import
can say so.
"""

from __future__ import annotations

import html
import re

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


def wordpress_html(raw: str) -> tuple[str, tuple[str, ...]]:
    """The content as HTML, and the names of shortcodes left as text (such as "gallery")."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _CAPTION.sub(_figure, text)
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
