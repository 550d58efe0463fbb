"""Article bodies: Markdown to sanitized HTML, plain text, and reading time."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cms.content import rendering


class _Markup(HTMLParser):
    """Tags and attributes of an HTML fragment, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


def _unsafe_markup(html: str) -> list[str]:
    """What in `html` could run script: a script/style/iframe tag, an on* handler, or a
    URL attribute whose scheme is not http(s) or mailto."""
    problems = []
    if "<script" in html.lower():
        problems.append("<script")
    markup = _markup(html)
    problems += [tag for tag in markup.tags if tag in {"script", "style", "iframe", "object"}]
    for tag, name, value in markup.attributes:
        if name.startswith("on") or name == "style":
            problems.append(f"{tag} {name}=")
        if name in {"href", "src"}:
            # A scheme is a letter then letters, digits, "+", "-" or "." (RFC 3986); without
            # one (":", "/a:b", "a/b:c") the URL is relative and cannot run anything.
            scheme = _SCHEME.match("".join(value.split()).lower())
            if scheme and scheme.group(1) not in {"http", "https", "mailto"}:
                problems.append(f"{tag} {name}={value}")
    return problems


# --- HTML --------------------------------------------------------------------------------


def test_markdown_becomes_html() -> None:
    html = rendering.to_html(
        "# Title\n\nA **bold** and *quiet* [link](https://example.org/a?b=1&c=2).\n\n"
        "- one\n- two\n\n> quoted\n\n```\ncode <b>\n```\n"
    )

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>quiet</em>" in html
    assert "<li>one</li>" in html
    assert "<blockquote>" in html
    assert "<pre><code>code &lt;b&gt;\n</code></pre>" in html
    markup = _markup(html)
    assert ("a", "href", "https://example.org/a?b=1&c=2") in markup.attributes
    assert ("a", "rel", "noopener noreferrer") in markup.attributes


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "before <script>alert(1)</script> after",
        '<img src="x" onerror="alert(1)">',
        "<img src=x onerror=alert(1)//",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1) )",
        "[x](<javascript:alert(1)>)",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](&#x6A;avascript&#x3A;alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        '![x](https://example.org/a.png "t" onerror="alert(1)")',
        "<javascript:alert(1)>",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<svg onload=alert(1)>",
        "<<script>script>alert(1)<</script>/script>",
    ],
)
def test_html_never_carries_script(markdown: str) -> None:
    html = rendering.to_html(markdown)

    assert _unsafe_markup(html) == [], html


def test_javascript_links_are_dropped_but_their_text_stays() -> None:
    html = rendering.to_html("See [the report](javascript:alert(1)) now.")

    markup = _markup(html)
    assert not [value for _, name, value in markup.attributes if name == "href"]
    assert "the report" in html


def test_safe_links_and_images_stay() -> None:
    html = rendering.to_html(
        "[mail](mailto:desk@news.example) [web](https://news.example/a) "
        "![alt text](https://news.example/a.png)"
    )

    attributes = _markup(html).attributes
    assert ("a", "href", "mailto:desk@news.example") in attributes
    assert ("a", "href", "https://news.example/a") in attributes
    assert ("img", "src", "https://news.example/a.png") in attributes
    assert ("img", "alt", "alt text") in attributes


def test_empty_markdown_is_empty_html_and_text() -> None:
    assert rendering.to_html("") == ""
    assert rendering.to_text("") == ""


# --- text --------------------------------------------------------------------------------


def test_text_has_no_markup() -> None:
    text = rendering.to_text(
        "# Title\n\nA **bold** [link](https://example.org) & more.\n\n- one\n- two\n\n"
        "> quoted\n\n1. first\n2. second\n"
    )

    assert "<" not in text
    assert "**" not in text
    assert "example.org" not in text
    assert "&amp;" not in text
    assert text.startswith("Title\n\nA bold link & more.")
    for word in ("one", "two", "quoted", "first", "second"):
        assert word in text


def test_text_separates_paragraphs_with_one_blank_line() -> None:
    assert rendering.to_text("One.\n\n\n\nTwo.\n\nThree.") == "One.\n\nTwo.\n\nThree."


def test_text_keeps_what_the_writer_typed_literally() -> None:
    # Raw HTML is not rendered (html=False): readers see it as text, and so does TEXT.
    assert rendering.to_text("1 < 2 and <b>not bold</b>") == "1 < 2 and <b>not bold</b>"


# --- reading time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "minutes"),
    [(0, 1), (1, 1), (199, 1), (200, 1), (201, 2), (400, 2), (401, 3), (450, 3), (2000, 10)],
)
def test_reading_time_in_whole_minutes_at_least_one(words: int, minutes: int) -> None:
    assert rendering.WORDS_PER_MINUTE == 200
    assert rendering.reading_time_minutes(" ".join(["word"] * words)) == minutes


def test_reading_time_of_nothing_is_one_minute() -> None:
    assert rendering.reading_time_minutes(None) == 1
    assert rendering.reading_time_minutes("") == 1
    assert rendering.reading_time_minutes("   \n\n  ") == 1


def test_reading_time_counts_words_not_markup() -> None:
    link = "[word](https://example.org/a-very-long-path-that-is-not-words) "
    assert rendering.reading_time_minutes(link * 200) == 1
    assert rendering.reading_time_minutes("**word** " * 201) == 2


# --- property ----------------------------------------------------------------------------

# Fragments that have broken sanitizers before, mixed with arbitrary text.
_HOSTILE = [
    "<script>", "</script>", "<script", "<img src=x onerror=alert(1)>", "onerror=",
    "javascript:", "JaVaScRiPt:", "java\tscript:", "&#106;", "&#x6A;", "&#58;", "&colon;",
    "[x](", "![x](", "](", ")", "<", ">", "</", '"', "'", "`", "```", "\n", "\n\n", " ",
    "<a href=", "<svg onload=", "<iframe", "data:text/html,", "vbscript:", "\\", "*", "_",
    "[ref]: ", "[ref]", "<!--", "-->", "<![CDATA[", "]]>", "%0a", "\x00",
]  # fmt: skip

hostile_markdown = st.lists(
    st.one_of(st.sampled_from(_HOSTILE), st.text(max_size=8)), max_size=30
).map("".join)


SCRIPT_SCHEMES = {"javascript", "vbscript"}


def _scheme(url: str) -> str | None:
    """The scheme a browser reads in an attribute's URL (the URL standard: leading C0
    controls and spaces dropped, tabs and newlines removed, then letters first, up to the
    first ':'); None for a relative URL such as ':javascript:' or 'javascript'."""
    cleaned = "".join(url.lstrip("".join(map(chr, range(0x21)))).split()).lower()
    scheme, colon, _ = cleaned.partition(":")
    if colon and re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        return scheme
    return None


def test_the_scheme_is_read_as_a_browser_reads_it() -> None:
    assert _scheme(" Java\tScript:alert(1)") == "javascript"
    assert _scheme("\x01javascript:x") == "javascript"
    assert _scheme(":javascript:") is None  # a relative path
    assert _scheme("https://example.org/?q=javascript:") == "https"


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(markdown=hostile_markdown)
@example(markdown="[x](&#58;javascript:)")  # a relative URL: no scheme, no script
def test_html_of_any_text_never_carries_script(markdown: str) -> None:
    html = rendering.to_html(markdown)

    assert _unsafe_markup(html) == [], (markdown, html)
    # text content may say "javascript:" or "onerror=" (a writer can type that); markup never
    for tag, name, value in _markup(html).attributes:
        assert _scheme(value) not in SCRIPT_SCHEMES, (tag, name, value)
        assert not name.startswith("on"), (tag, name)
