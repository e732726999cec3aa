"""Open an HTML file in a real headless Chromium and report what it rendered.

The report has no scripts; to ask the browser what it drew, a copy of the page gets a small
probe script that, once the page has loaded, writes into the DOM each section's heading and
rendered size, each image's decoded size and pixel colours (read back from a canvas), the
MathML layout, and every resource the page fetched. ``chromium --dump-dom`` prints that DOM.

Chromium comes from Debian's packages (``apt-get install chromium``; ``.ci/run`` installs
it). Where none is found the tests skip with the reason — except when
``BAYESMETA_REQUIRE_BROWSER=1`` (set by CI), where a missing browser is a failure.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND"]

PROBE = """
<script>
window.addEventListener('load', () => {
  // Draw every image onto a canvas and read its pixels back: this decodes it now, and
  // proves it holds a picture (more than one colour), not an empty or broken image.
  const pixels = img => {
    try {
      const c = document.createElement('canvas');
      c.width = Math.min(img.naturalWidth, 400); c.height = Math.min(img.naturalHeight, 400);
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0, c.width, c.height);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      for (let k = 0; k < d.length && colours.size < 3; k += 4 * 97) {
        colours.add(d[k] + ',' + d[k + 1] + ',' + d[k + 2]);
      }
      return colours.size;
    } catch (e) { return -1; }
  };
  const box = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  const out = {
    sections: [...document.querySelectorAll('main > section')].map(s => ({
      id: s.id, title: (s.querySelector('h2') || {}).textContent, size: box(s)})),
    images: [...document.images].map(img => ({
      figure: (img.closest('figure') || {}).id, complete: img.complete,
      width: img.naturalWidth, height: img.naturalHeight, colours: pixels(img),
      shown: box(img)})),
    math: [...document.querySelectorAll('math')].map(m => ({
      display: getComputedStyle(m).display, size: box(m)})),
    resources: performance.getEntriesByType('resource').map(e => e.name),
    text: document.body.innerText,
  };
  const pre = document.createElement('pre');
  pre.id = 'bayesmeta-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def chromium() -> str:
    """Path of a Chromium binary, or skip (fail under BAYESMETA_REQUIRE_BROWSER=1)."""
    for candidate in (os.environ.get("BAYESMETA_CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    reason = ("no Chromium found: install Debian's package (apt-get install -y chromium) "
              "or set BAYESMETA_CHROMIUM; CI installs it in .ci/run")
    if os.environ.get("BAYESMETA_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="bayesmeta-chromium-") as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def rendered(page: Path) -> dict:
    """What Chromium rendered for ``page`` (sections, images, MathML, fetched resources)."""
    text = page.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bayesmeta-probe-") as tmp:
        probed = Path(tmp) / page.name
        probed.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        proc = _run(["--virtual-time-budget=20000", "--window-size=1280,2000", "--dump-dom",
                     probed.as_uri()])
    match = re.search(r'<pre id="bayesmeta-probe">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"Chromium produced no probe output:\n{proc.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


def screenshot(page: Path, out: Path, *, height: int = 3000) -> Path:
    """A PNG screenshot of the top ``height`` pixels of ``page``."""
    proc = _run([f"--window-size=1280,{height}", f"--screenshot={out}", page.as_uri()])
    assert out.exists(), f"no screenshot:\n{proc.stderr[-2000:]}"
    return out
