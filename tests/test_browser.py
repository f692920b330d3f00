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


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of the fixture notebook; yields its URL."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install jupyterlab)")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(HERE / "browser_widget.ipynb", root / "widget.ipynb")
    settings = tmp_path / "settings"
    # No "get news?" toast over the notebook, no update check.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), MPLBACKEND="Agg")
    port = free_port()
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
         "--ServerApp.terminals_enabled=False", "--allow-root"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n"
                            + (tmp_path / "server.log").read_text(errors="replace")[-3000:])
            try:
                if _http(f"{url}/api/status") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_TIMEOUT_S} s")
            time.sleep(0.5)
        yield url
    finally:
        # The shutdown endpoint stops the kernels too; then make sure of the server.
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
        log.close()


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
