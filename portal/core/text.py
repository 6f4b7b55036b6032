"""The one sanitiser for user rich text (Markdown → HTML → bleach allow-list), and the
Chinese-aware n-grams used for search and similarity."""

from __future__ import annotations

import re
import unicodedata

import bleach
import markdown
from bleach.linkifier import LinkifyFilter

ALLOWED_TAGS = [
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
    "a",
    "hr",
]
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = ["http", "https", "mailto"]


def _nofollow(attrs, new=False):
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[
        lambda source: LinkifyFilter(source, callbacks=[_nofollow], skip_tags=["pre", "code"])
    ],
)


def render_markdown(text: str) -> str:
    """Markdown to safe HTML. Raw HTML in the input is escaped by Markdown, then bleach keeps
    only the allow-list; links get rel=nofollow."""
    html = markdown.markdown(text or "", extensions=["sane_lists", "nl2br"], output_format="html")
    return _cleaner.clean(html)


_LATIN = re.compile(r"[0-9a-z]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def grams(text: str) -> set[str]:
    """Character bigrams of every run of Chinese characters (a lone character stands for
    itself), plus whole Latin words and numbers. "社区卫生站" → {社区, 区卫, 卫生, 生站}."""
    text = normalize(text)
    out: set[str] = set()
    for run in _CJK.findall(text):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    out.update(w[:32] for w in _LATIN.findall(text) if len(w) >= 2)
    return out


_linker = bleach.Linker(callbacks=[_nofollow], skip_tags=["pre", "code"])


def linkify(escaped_html: str) -> str:
    """Turn URLs in already-escaped text into links with rel=nofollow."""
    return _linker.linkify(escaped_html)
