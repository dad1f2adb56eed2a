"""The genome guide's screenshot of `seqexplain tracks` and `seqexplain hits` in a genome
browser (docs/images/tracks_igv.png): igv.js, driven by a headless Chromium.

Needs igv.js (``npm pack igv@3.8.10`` in the current folder, unpacked to ``package/``) and a
``chromium`` on the PATH, plus the outputs of the guide's blocks in ``WORK`` (``ctcf_tracks/``
and ``ctcf_hits/``, from the example peaks). It serves the example genome, the bigWig and the
BED file over HTTP with byte ranges (igv.js reads them by range) and screenshots
chrA:400-760, the first peak.

    python examples/make_tracks_screenshot.py WORK [OUT.png]
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = """<!doctype html><html><head><meta charset="utf-8"><script src="igv.min.js"></script>
</head><body style="margin:0"><div id="igv" style="width:1100px"></div><script>
igv.createBrowser(document.getElementById("igv"), {
  reference: {id: "example", name: "example genome", fastaURL: "genome.fa",
              indexURL: "genome.fa.fai"},
  locus: "chrA:400-760",
  tracks: [
    {name: "saliency.bw (seqexplain tracks)", url: "saliency.bw", type: "wig",
     format: "bigwig", height: 120, color: "rgb(40,90,160)", altColor: "rgb(200,60,40)"},
    {name: "hits.bed (seqexplain hits)", url: "hits.bed", type: "annotation", format: "bed",
     displayMode: "EXPANDED", height: 50}]});
</script></body></html>
"""


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with ``Range: bytes=a-b`` answered by 206 Partial Content."""

    def send_head(self):
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not spec or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        a, b = re.match(r"bytes=(\d*)-(\d*)", spec).groups()
        a, b = int(a or 0), min(int(b) if b else size - 1, size - 1)
        fh = open(path, "rb")
        fh.seek(a)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {a}-{b}/{size}")
        self.send_header("Content-Length", str(b - a + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._left = b - a + 1
        return fh

    def copyfile(self, source, outputfile):
        left = getattr(self, "_left", None)
        if left is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(left))

    def log_message(self, *args):
        pass


def main() -> None:
    work = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "images" / "tracks_igv.png"
    with tempfile.TemporaryDirectory() as site:
        site = Path(site)
        shutil.copy(Path("package/dist/igv.min.js"), site)
        for f in ("genome.fa", "genome.fa.fai"):
            shutil.copy(ROOT / "examples" / "data" / "genome" / f, site)
        shutil.copy(work / "ctcf_tracks" / "saliency.bw", site)
        shutil.copy(work / "ctcf_hits" / "hits.bed", site)
        (site / "view.html").write_text(PAGE)
        handler = lambda *a: RangeHandler(*a, directory=str(site))  # noqa: E731
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/view.html"
        subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1100,330",
                        "--virtual-time-budget=15000", f"--screenshot={out}", url],
                       check=True, capture_output=True)
        server.shutdown()
    print(out)


if __name__ == "__main__":
    main()
