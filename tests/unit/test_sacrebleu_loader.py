"""The sacrebleu loader runs sacrebleu's real dataset code offline: the test fills a
sacrebleu cache folder ($SACREBLEU) with a small WMT22-format XML file where the
download would have put it, so sacrebleu parses it instead of downloading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WMT_XML = """<?xml version="1.0" encoding="utf-8"?>
<dataset id="wmttest2022">
  <collection id="general">
    <doc id="doc1" origlang="{src}">
      <src lang="{src}"><p><seg id="1">Quelle eins.</seg><seg id="2">Quelle zwei.</seg></p></src>
      <ref lang="{tgt}" translator="{r1}"><p><seg id="1">Ref {r1} one.</seg><seg id="2">Ref {r1} two.</seg></p></ref>
      <ref lang="{tgt}" translator="{r2}"><p><seg id="1">Ref {r2} one.</seg><seg id="2">Ref {r2} two.</seg></p></ref>
    </doc>
  </collection>
</dataset>
"""

SCRIPT = """
import json, sys
from mtbench.data.loaders import load_testdata
from mtbench.data.testsets import get_testset
data = load_testdata(get_testset("wmt22"), sys.argv[1], None)
print(json.dumps({"origin": data.origin, "source": data.source, "refs": data.refs("all"), "primary": data.refs()}))
"""


def _load(tmp_path: Path, pair: str, r1: str, r2: str) -> dict:
    cache = tmp_path / "sacrebleu"
    raw = cache / "wmt22" / "raw"
    xml = raw / "wmt22-news-systems-1.1" / "xml" / f"wmttest2022.{pair}.all.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    src, tgt = pair.split("-")
    xml.write_text(WMT_XML.format(src=src, tgt=tgt, r1=r1, r2=r2), encoding="utf-8")
    (raw / "wmt22.v1.1.tar.gz").write_bytes(b"already downloaded")
    env = {"SACREBLEU": str(cache), "PATH": "/usr/bin:/bin", "MTBENCH_DATA": ""}
    out = subprocess.run([sys.executable, "-c", SCRIPT, pair], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_sacrebleu_loader_reads_every_reference(tmp_path: Path) -> None:
    got = _load(tmp_path, "de-en", "A", "B")
    assert got["origin"] == "sacrebleu:wmt22:de-en"
    assert got["source"] == ["Quelle eins.", "Quelle zwei."]
    assert got["refs"] == {"A": ["Ref A one.", "Ref A two."], "B": ["Ref B one.", "Ref B two."]}
    assert got["primary"] == {"A": ["Ref A one.", "Ref A two."]}


def test_sacrebleu_loader_czech_uses_ref_b(tmp_path: Path) -> None:
    got = _load(tmp_path, "cs-en", "B", "C")
    assert got["primary"] == {"B": ["Ref B one.", "Ref B two."]}
    assert list(got["refs"]) == ["B", "C"]
