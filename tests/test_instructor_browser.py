"""The decks and the website in a real browser with no network: Debian's headless Chromium, Playwright.

Every request that is not for a file:// or localhost URL is aborted and
recorded; the tests assert there was none. One deck is driven (Reveal.next
changes the slide index); every deck and every chapter page is opened and
checked: maths typeset by the shipped MathJax (its elements present, no raw
``$$`` left in the visible text) and every image loaded (naturalWidth > 0).
Uses /usr/bin/chromium (no browser download); skips, saying why, when it or
Playwright is missing. The decks and site come from the fixtures in
test_instructor_kit.py (built by `make test` before the tests run).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from test_instructor_kit import CHAPTERS, built_book, built_slides  # noqa: F401  (fixtures)

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM}; "
                                 "on Debian: apt-get install chromium")]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000
#: the page's visible text (no <script>, <style>, code or hidden slides) still holding a TeX delimiter
RAW_DISPLAY_MATH = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(node) {
        const el = node.parentElement;
        if (!el || el.closest('script, style, pre, code, .highlight, mjx-assistive-mml, .MJX_Assistive_MathML'))
            return NodeFilter.FILTER_REJECT;
        return NodeFilter.FILTER_ACCEPT;
    }});
    const raw = [];
    while (walker.nextNode()) if (walker.currentNode.nodeValue.includes('$$')) raw.push(walker.currentNode.nodeValue);
    return raw;
}"""
BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src.slice(0, 80))"""
IMAGE_COUNT = "() => document.images.length"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A page on which every request off this machine is aborted and recorded in ``page.external``,
    and every local request that fails (a file missing from the build) in ``page.failed``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.external, page.failed = [], []
    # a local file the page asks for and the build lacks (an external request aborted above is in .external)
    page.on("requestfailed", lambda request: None if request.url in page.external else page.failed.append(request.url))

    def route(route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("file", "data", "blob", "about") or parsed.hostname in ("localhost", "127.0.0.1"):
            route.continue_()
        else:
            page.external.append(url)
            route.abort()

    context.route("**/*", route)
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


def _wait_images(page):
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)")


def _open_deck(page, deck: Path):
    page.goto(deck.as_uri())
    # The template loads reveal.js through require.js; the module name is the URL it gave.
    page.wait_for_function("() => window.require && require.defined('_static/reveal.js/dist/reveal.js')"
                           " && require('_static/reveal.js/dist/reveal.js').isReady()")
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
                           " && document.querySelector('.MathJax_CHTML, .mjx-chtml') !== null")
    _wait_images(page)


REVEAL = "require('_static/reveal.js/dist/reveal.js')"


def test_a_deck_advances_typesets_its_maths_and_loads_every_image(built_slides, page):  # noqa: F811
    _open_deck(page, built_slides / "04_backward_pass.slides.html")
    total = page.evaluate(f"() => {REVEAL}.getTotalSlides()")
    from build_slides import count_slides  # the count the deck test and the build report use
    assert total == count_slides((built_slides / "04_backward_pass.slides.html").read_text(encoding="utf-8"))
    assert total >= 10
    seen = [page.evaluate(f"() => {REVEAL}.getIndices()")]
    for _ in range(3):
        page.evaluate(f"() => {REVEAL}.next()")
        seen.append(page.evaluate(f"() => {REVEAL}.getIndices()"))
    assert len({(s["h"], s["v"]) for s in seen}) == 4, seen
    assert page.evaluate(f"() => {REVEAL}.getProgress()") > 0
    assert page.evaluate("() => document.querySelectorAll('.MathJax_CHTML, .mjx-chtml').length") > 5
    assert page.evaluate(RAW_DISPLAY_MATH) == []
    assert page.evaluate(IMAGE_COUNT) >= 2
    assert page.evaluate(BROKEN_IMAGES) == []
    # each formula typeset once: MathJax 2's hidden MathML copy is painted beside it in a scaled slide
    assert page.evaluate("() => document.querySelectorAll('.MJX_Assistive_MathML').length") == 0
    assert page.external == [] and page.failed == []


#: [content height in slide pixels, cells] of every slide, each measured while it is shown
SLIDE_HEIGHTS = f"""() => {{ const R = {REVEAL}; const out = []; R.configure({{transition: "none"}});
    R.getSlides().forEach(s => {{ const i = R.getIndices(s); R.slide(i.h, i.v);
        const h = Array.from(s.children).reduce((a, c) => a + c.getBoundingClientRect().height, 0) / R.getScale();
        out.push([h, s.querySelectorAll('.jp-Cell').length]); }});
    R.slide(0, 0); return out; }}"""
SLIDE_HEIGHT = 700  # the exporter's default reveal_height


def test_every_deck_opens_offline_with_its_maths_and_pictures(built_slides, page):  # noqa: F811
    for chapter in CHAPTERS:
        _open_deck(page, built_slides / f"{chapter}.slides.html")
        # the annotation only puts cells together that fit: a slide taller than the deck holds one cell
        # (a cell too long for any slide scrolls)
        crowded = [(round(h), n) for h, n in page.evaluate(SLIDE_HEIGHTS) if n > 1 and h > SLIDE_HEIGHT]
        assert crowded == [], (chapter, crowded)
        assert page.evaluate(RAW_DISPLAY_MATH) == [], chapter
        assert page.evaluate(BROKEN_IMAGES) == [], chapter
        assert page.evaluate(IMAGE_COUNT) >= 1, chapter
    assert page.external == [] and page.failed == []


def test_every_chapter_page_of_the_site_reads_offline(built_book, page):  # noqa: F811
    for chapter in CHAPTERS:
        page.goto((built_book / "notebooks" / f"{chapter}.html").as_uri())
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        _wait_images(page)
        if chapter != "00_start_here":
            assert page.evaluate("() => document.querySelectorAll('mjx-container').length") > 0, chapter
        assert page.evaluate(RAW_DISPLAY_MATH) == [], chapter
        assert page.evaluate(BROKEN_IMAGES) == [], chapter
        assert page.evaluate(IMAGE_COUNT) >= 1, chapter
        # the navigation lists every chapter
        assert page.locator("nav.bd-links a.reference").count() >= len(CHAPTERS), chapter
    assert page.external == [] and page.failed == []


@pytest.fixture
def served_book(built_book):  # noqa: F811
    """build/book served on a free 127.0.0.1 port (search fetches result pages, which file:// refuses)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_site_search_finds_a_chapter_offline(served_book, page):
    page.goto(f"{served_book}/search.html?q=backpropagation")
    page.wait_for_function("() => document.querySelectorAll('#search-results li').length > 0")
    hits = page.evaluate("() => Array.from(document.querySelectorAll('#search-results li a'))"
                         ".map(a => a.getAttribute('href'))")
    assert any("notebooks/" in h for h in hits), hits
    assert page.external == [] and page.failed == []
