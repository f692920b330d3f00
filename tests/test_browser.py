"""The learning-rate widget in a real browser: JupyterLab, Debian's headless Chromium, Playwright.

The test copies ``browser_widget.ipynb`` (which calls ``explore_learning_rate()``)
into a temporary folder, starts JupyterLab there on a free localhost port
(no token, settings and workspaces isolated in the temporary folder), opens
the notebook in Chromium, runs it, drags the learning-rate slider to its right
end (lr = 10) and checks that the picture changes and the status reports the
divergence and its step. A screenshot goes to ``tests/_artifacts/``.

It uses the system's Chromium (``/usr/bin/chromium``; no browser download)
and skips, saying why, when Chromium or Playwright is missing. The server is
always shut down, kernels included.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM}; "
                                 "on Debian: apt-get install chromium")]
HERE = Path(__file__).parent
ARTIFACTS = HERE / "_artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# Bounds on every wait, in milliseconds: server start, page load, kernel + first run, one update.
SERVER_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 90_000
UPDATE_TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(url: str, method: str = "GET", timeout: float = 2.0) -> int:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


@pytest.fixture
def sync_api():
    """Playwright's synchronous API (the Python package only; the browser is Debian's)."""
    return pytest.importorskip("playwright.sync_api",
                               reason="Playwright is not installed (pip install playwright)")


def start_jupyter(tmp_path, app: str, root: Path):
    """Start Jupyter ``app`` the way ``make course`` does (bptutor.course.jupyter_command: rooted
    at the course folder, --allow-root as root, --no-browser without a display), with the
    test's JUPYTER_ARGS: a free port on 127.0.0.1, no token, settings isolated in tmp_path.

    Returns ``(server, url, log_path)``.
    """
    from bptutor.course import jupyter_command

    settings = tmp_path / "settings"
    # No "get news?" toast over the notebook, no update check.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), MPLBACKEND="Agg")
    env.pop("DISPLAY", None), env.pop("WAYLAND_DISPLAY", None), env.pop("BROWSER", None)
    port = free_port()
    app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
    jupyter_args = ["--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
                    "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                    f"--{app_class}.expose_app_in_browser=True", "--ServerApp.terminals_enabled=False"]
    command = jupyter_command(root, jupyter_args, app=app, has_browser=False)
    assert f"--ServerApp.root_dir={root.resolve()}" in command and "--no-browser" in command
    if os.getuid() == 0:
        assert "--allow-root" in command  # what `make course` adds in a container
    log_path = tmp_path / f"server-{app}.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_TIMEOUT_S
    while True:
        if server.poll() is not None:
            pytest.fail(f"Jupyter {app} exited with {server.returncode}:\n"
                        + log_path.read_text(errors="replace")[-3000:])
        try:
            if _http(f"{url}/api/status") == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_jupyter(server, url)
            pytest.fail(f"Jupyter {app} did not answer within {SERVER_TIMEOUT_S} s")
        time.sleep(0.5)
    return server, url, log_path


def stop_jupyter(server, url: str) -> None:
    """The shutdown endpoint stops the kernels too; then make sure of the server."""
    try:
        _http(f"{url}/api/shutdown", method="POST", timeout=5.0)
        server.wait(timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        pass
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture
def course_root(tmp_path):
    """A copy of the course (notebooks/, figures/) made with the course's own copy command."""
    from bptutor.course import copy_course

    return copy_course(tmp_path / "course")


@pytest.fixture
def jupyterlab(tmp_path, course_root):
    """JupyterLab serving the course copy plus the fixture notebook; yields its URL."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install jupyterlab)")
    shutil.copy(HERE / "browser_widget.ipynb", course_root / "widget.ipynb")
    server, url, _ = start_jupyter(tmp_path, "lab", course_root)
    try:
        yield url
    finally:
        stop_jupyter(server, url)


@pytest.fixture
def notebook7(tmp_path, course_root):
    """Notebook 7 (``jupyter notebook``) serving the course copy; yields its URL."""
    pytest.importorskip("notebook", reason="Notebook 7 is not installed (pip install 'notebook>=7')")
    server, url, _ = start_jupyter(tmp_path, "notebook", course_root)
    try:
        yield url
    finally:
        stop_jupyter(server, url)


RUN_ALL = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.context.sessionContext.ready;
    await app.commands.execute('notebook:run-all-cells');
}"""


def test_learning_rate_slider_diverges_in_chromium(sync_api, jupyterlab, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(f"{jupyterlab}/lab/tree/widget.ipynb")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.context")
            page.evaluate(RUN_ALL)

            status = page.locator(".bptutor-status")
            status.wait_for(timeout=RUN_TIMEOUT_MS)
            page.wait_for_function("() => document.querySelector('.bptutor-status').innerText"
                                   ".length > 0", timeout=RUN_TIMEOUT_MS)
            image = page.locator(".bptutor-output img")
            image.wait_for()
            before_src = image.get_attribute("src")
            before_status = status.inner_text()
            assert before_status.startswith("converged: the loss fell from 0.693"), before_status

            # Drag the learning-rate handle past the right end of its track: lr = 10.
            handle = page.locator(".bptutor-lr .noUi-handle")
            track = page.locator(".bptutor-lr .noUi-target").bounding_box()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(track["x"] + track["width"] + 40, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()

            page.wait_for_function("() => document.querySelector('.bptutor-status').innerText"
                                   ".includes('diverged at step')", timeout=UPDATE_TIMEOUT_MS)
            page.wait_for_function("(old) => { const img = document.querySelector('.bptutor-output img');"
                                   " return img && img.getAttribute('src') !== old; }", arg=before_src,
                                   timeout=UPDATE_TIMEOUT_MS)
            readout = page.locator(".bptutor-lr .widget-readout").inner_text()
            after_status = status.inner_text()
            page.locator(".bptutor-status").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser_learning_rate_diverged.png"), full_page=True)
        except Exception:
            # What the browser showed when it went wrong, for whoever reads the CI log.
            try:
                page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=True)
            except Exception:
                pass
            raise
        finally:
            context.close()
    assert float(readout) == 10.0
    assert after_status.startswith("diverged at step")
    step = int(after_status.split("diverged at step")[1].split(":")[0])
    assert step >= 1


# -- the chapters themselves, in JupyterLab and in Notebook 7 -----------------------------------

CHAPTER_RUN_TIMEOUT_MS = 240_000
# JupyterLab 4 skips laying out cells far from the viewport (content-visibility), and innerText is
# empty there: the checks read textContent, which does not depend on where the page is scrolled.
#: notebook -> number of explorers it shows
CHAPTERS = {"03_chain_rule.ipynb": 1, "05_training_loop.ipynb": 1, "06_gradient_descent_variants.ipynb": 2}


def run_chapter(sync_api, tmp_path, page_url: str, explorers: int, name: str) -> dict:
    """Open ``page_url``, run every cell, wait for the explorers; return what the page showed:
    the failed image requests, the explorers' statuses and images, the lr slider's width."""
    ARTIFACTS.mkdir(exist_ok=True)
    failed = []
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{name}"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        # JupyterLab sets an attachment's <img src="attachment:x.png"> before it swaps in the data;
        # that first, non-HTTP try is not a failure (`broken` below checks what finally shows).
        page.on("requestfailed", lambda r: r.resource_type == "image" and r.url.startswith("http")
                and failed.append(r.url))
        page.on("response", lambda r: r.request.resource_type == "image" and r.status >= 400
                and failed.append(f"{r.status} {r.url}"))
        try:
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(page_url)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.context")
            page.evaluate(RUN_ALL)
            page.wait_for_function(
                "(n) => [...document.querySelectorAll('.bptutor-status')].filter(e => e.textContent.length)"
                ".length >= n && document.querySelectorAll('.bptutor-output img').length >= n",
                arg=explorers, timeout=CHAPTER_RUN_TIMEOUT_MS)
            # every <img> the page holds (markdown pictures, outputs, widgets) has loaded
            page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=PAGE_TIMEOUT_MS)
            shown = page.evaluate("() => ({statuses: [...document.querySelectorAll('.bptutor-status')]"
                                  ".map(e => e.textContent), broken: [...document.images].filter(i => "
                                  "i.complete && i.naturalWidth === 0).map(i => i.src.slice(0, 80)),"
                                  " images: document.images.length,"
                                  " alts: [...document.querySelectorAll('.jp-RenderedMarkdown img')]"
                                  ".filter(i => !i.alt).length})")
            slider = page.locator(".bptutor-lr .noUi-target")
            shown["lr_track_px"] = slider.bounding_box()["width"] if slider.count() else None
            if name.startswith("03"):  # drive the stepper: one step forward
                page.locator(".bptutor-status").first.scroll_into_view_if_needed()
                before = page.locator(".bptutor-status").first.text_content()
                page.get_by_role("button", name="next step ▶").click()
                page.wait_for_function("(old) => document.querySelector('.bptutor-status').textContent !== old",
                                       arg=before, timeout=UPDATE_TIMEOUT_MS)
                shown["after_click"] = page.locator(".bptutor-status").first.text_content()
            page.screenshot(path=str(ARTIFACTS / f"browser_{name}.png"), full_page=False)
        except Exception:
            try:
                page.screenshot(path=str(ARTIFACTS / f"browser_failure_{name}.png"), full_page=True)
                # what the page shows instead: tracebacks, widget errors, the explorers' state
                print("page errors:", page.evaluate(
                    "() => [...document.querySelectorAll('.jp-RenderedText[data-mime-type*=error], "
                    ".jp-RenderedText[data-mime-type*=stderr], .jupyter-widgets-error-widget, .bptutor-status')]"
                    ".map(e => e.className + ': ' + e.innerText.slice(0, 300))"))
            except Exception:
                pass
            raise
        finally:
            context.close()
    shown["failed"] = failed
    return shown


@pytest.mark.slow
@pytest.mark.parametrize("notebook", CHAPTERS)
def test_chapter_runs_in_jupyterlab_with_every_picture_and_widget(sync_api, jupyterlab, tmp_path, notebook):
    shown = run_chapter(sync_api, tmp_path, f"{jupyterlab}/lab/tree/notebooks/{notebook}",
                        CHAPTERS[notebook], notebook[:2] + "-lab")
    assert shown["failed"] == [], shown["failed"]          # no 404 for ../figures or anything else
    assert shown["broken"] == []
    assert shown["alts"] == 0                               # every markdown picture has alt text
    assert len(shown["statuses"]) == CHAPTERS[notebook]
    assert all(s and not s.startswith("Something went wrong") for s in shown["statuses"]), shown["statuses"]
    if notebook.startswith("05"):
        assert shown["lr_track_px"] >= 300, shown["lr_track_px"]
    if notebook.startswith("03"):
        assert shown["statuses"][0].startswith("start") and shown["after_click"].startswith("step 1 of")


@pytest.mark.slow
def test_chapter_runs_in_notebook_7(sync_api, notebook7, tmp_path):
    shown = run_chapter(sync_api, tmp_path, f"{notebook7}/notebooks/notebooks/03_chain_rule.ipynb", 1, "03-nb7")
    assert shown["failed"] == [] and shown["broken"] == [], shown
    assert shown["statuses"][0].startswith("start"), shown["statuses"]
    assert shown["after_click"].startswith("step 1 of")
