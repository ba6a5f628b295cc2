"""axe-core on every page the browser tests open: no critical or serious violation, in English and Spanish.

axe-core is the npm package pinned in tests/e2e/package.json (scripts/test installs it with `npm ci`). Every browser
context the tests make is watched: each document that finishes loading in one of its pages is checked before the
test's next Playwright call (so in the state it loaded in, before the test types into it) and once more at the end
of the test for the page that is still open. A test fails, at its end, listing every critical or serious violation
on the pages it opened, each with the rule, the page and the nodes.

A page is checked once per session for each (request method, kind of page, language, viewport width), the kind
being its path with every id in it replaced (`/staff/patients/N/specimens/N`): the tests' live servers run the same
templates, most tests open the same few kinds of page with fresh ids, and a check costs a few tenths of a second,
which over every page of every test would double the browser tests' time. A POST's answer (a form shown again with
its errors) is a page of its own. The cached result is reported to every test that opens such a page again, so no
test passes by coming second; tests/e2e/test_accessibility_in_a_browser.py opens every kind of page with a full
patient story in both languages, so the richest version of each page is among those checked.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import greenlet
from playwright.sync_api import Error as PlaywrightError

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_HINT = "run `npm ci --prefix tests/e2e` (scripts/test does it)"
BLOCKING = ("critical", "serious")

# With JavaScript turned off in the context, the page still evaluates what Playwright sends, but timers and
# animation frames never fire, and axe.run waits on them: run them as microtasks instead (no page script runs there).
TIMERS_WITHOUT_JS = """
window.setTimeout = (f, _ms, ...args) => { Promise.resolve().then(() => f(...args)); return 0; };
window.clearTimeout = () => {};
window.requestAnimationFrame = f => { Promise.resolve().then(() => f(performance.now())); return 0; };
window.cancelAnimationFrame = () => {};
"""
# Evaluated after the library: the completion value (a promise) is what page.evaluate returns. Only the blocking
# impacts travel back, with what a failure message needs.
RUN = """;
axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations
  .filter(v => BLOCKING.includes(v.impact))
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              targets: v.nodes.map(n => n.target.join(" ")),
              summary: (v.nodes[0] && v.nodes[0].failureSummary) || ""})))
""".replace("BLOCKING", json.dumps(BLOCKING))
PROBE = "() => [location.href, document.documentElement.lang || '', document.readyState]"


@dataclass
class Watched:
    """What the checker knows of one page: whether its document still needs a check, how that document came."""

    javascript: bool
    method: str = "GET"
    loaded: bool = False


@dataclass
class AxeChecker:
    main: Any = None
    pages: dict[Any, Watched] = field(default_factory=dict)
    results: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    failures: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    busy: bool = False
    checks: int = 0
    seconds: float = 0.0
    source: str = ""

    def load(self) -> None:
        self.source = AXE_JS.read_text(encoding="utf-8")
        self.main = greenlet.getcurrent()

    def watch(self, context: Any, javascript: bool) -> None:
        """Check every document that loads in this context's pages."""
        context.on("page", lambda page: self._track(page, javascript))

    def _track(self, page: Any, javascript: bool) -> None:
        # Runs in an event greenlet: only bookkeeping here, never a Playwright call (the test's own call may be
        # resuming at the same time); the check waits for the test's next call (see `before_call`).
        watched = self.pages[page] = Watched(javascript)

        def navigated(request: Any) -> None:
            try:
                if request.is_navigation_request() and request.frame == page.main_frame:
                    watched.method = request.method
            except PlaywrightError:  # a request of a worker has no frame: not a document of this page
                pass

        def loaded(_page: Any) -> None:
            watched.loaded = True

        page.on("request", navigated)
        page.on("load", loaded)
        page.on("close", lambda _page: self.pages.pop(page, None))

    def before_call(self) -> None:
        """Called before each Playwright call: check the documents that loaded since, from the test's own greenlet."""
        if self.busy or greenlet.getcurrent() is not self.main:
            return
        if any(w.loaded for w in self.pages.values()):
            self.flush()

    def flush(self) -> None:
        """Check each page whose document loaded and was not checked yet."""
        self.busy = True
        try:
            for page, watched in list(self.pages.items()):
                if watched.loaded:
                    watched.loaded = False
                    self._check(page, watched)
        finally:
            self.busy = False

    def _check(self, page: Any, watched: Watched) -> None:
        try:
            url, lang, state = page.evaluate(PROBE)
        except PlaywrightError:  # closed or navigating again: that next document is checked when it loads
            return
        if state != "complete" or not url.startswith("http"):
            return
        parts = urlsplit(url)
        width = str((page.viewport_size or {}).get("width", ""))
        key = (watched.method, page_kind(parts.path), lang, width)
        if key not in self.results:
            started = time.perf_counter()
            try:
                found = page.evaluate((TIMERS_WITHOUT_JS if not watched.javascript else "") + self.source + RUN)
            except PlaywrightError:  # the test navigated away meanwhile: check it when it comes back
                return
            self.seconds += time.perf_counter() - started
            self.checks += 1
            self.results[key] = [describe(v, url, lang, width) for v in found]
        if self.results[key]:
            self.failures[key] = self.results[key]

    def was_checked(self, url: str, lang: str, width: int) -> bool:
        """Whether the page at `url` (any request method) has been through axe-core in this language and width."""
        return any(key[1:] == (page_kind(urlsplit(url).path), lang, str(width)) for key in self.results)

    def report(self) -> str:
        lines = [f"axe-core found critical or serious violations on {len(self.failures)} page(s):"]
        for messages in self.failures.values():
            lines.extend(messages)
        return "\n".join(lines)


_ID = re.compile(r"/\d+(?=/|$)")


def page_kind(path: str) -> str:
    """The path with its ids replaced: `/staff/patients/17/specimens/3` -> `/staff/patients/N/specimens/N`."""
    return _ID.sub("/N", path)


def describe(violation: dict[str, Any], url: str, lang: str, width: str) -> str:
    targets = ", ".join(violation["targets"][:8]) + (" ..." if len(violation["targets"]) > 8 else "")
    return (f"- [{violation['impact']}] {violation['id']} ({violation['help']}) on {url} (lang={lang or '?'}, "
            f"{width}px): {targets}\n    {' '.join(violation['summary'].split())}")


def install(checker: AxeChecker) -> Any:
    """Make every sync Playwright call check the pages that loaded first; returns a function that undoes it.

    Hooked where the sync API runs each call (SyncBase._sync), since pages are driven through Page, Locator,
    Keyboard and expect() alike. Playwright is pinned in requirements-dev.txt.
    """
    from playwright._impl._sync_base import SyncBase

    original = SyncBase._sync

    def _sync(self: Any, awaitable: Any) -> Any:
        __tracebackhide__ = True
        try:
            checker.before_call()
        except BaseException:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise
        return original(self, awaitable)

    SyncBase._sync = _sync  # type: ignore[method-assign]

    def undo() -> None:
        SyncBase._sync = original  # type: ignore[method-assign]

    return undo
