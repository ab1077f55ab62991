"""Loaders: local layout, WIT3 XML (on the real IWSLT17 files), Hugging Face rows from a
local file in the hub's format, and the error when nothing has the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtbench.data.loaders import load_testdata, parse_wit3_xml
from mtbench.data.testsets import get_testset
from mtbench.errors import MtbenchError
from mtbench.textio import read_lines
from tests.conftest import TINY_REF_A, TINY_REF_B, TINY_SRC


def test_local_layout_primary_and_all_refs(tiny_layout: Path) -> None:
    data = load_testdata(get_testset("wmt22"), "de-en", tiny_layout)
    assert data.source == TINY_SRC
    assert data.refs() == {"A": TINY_REF_A}
    assert data.refs("all") == {"A": TINY_REF_A, "B": TINY_REF_B}
    assert data.refs("B") == {"B": TINY_REF_B}
    with pytest.raises(MtbenchError, match="no reference 'C'"):
        data.refs("C")


def test_czech_primary_reference_is_b(tiny_layout: Path) -> None:
    pair = tiny_layout / "wmt22" / "cs-en"
    (pair / "refs").mkdir(parents=True)
    (pair / "src.txt").write_text("a\nb\n")
    (pair / "refs" / "ref.B.txt").write_text("B1\nB2\n")
    (pair / "refs" / "ref.C.txt").write_text("C1\nC2\n")
    data = load_testdata(get_testset("wmt22"), "cs-en", tiny_layout)
    assert data.refs() == {"B": ["B1", "B2"]}
    assert list(data.refs("all")) == ["B", "C"]


def test_reference_length_mismatch(tiny_layout: Path) -> None:
    (tiny_layout / "wmt22" / "de-en" / "refs" / "ref.B.txt").write_text("x\n")
    with pytest.raises(MtbenchError, match="has 1 lines but the source has 4"):
        load_testdata(get_testset("wmt22"), "de-en", tiny_layout)


def test_wit3_xml_matches_sacrebleu_extraction(data_dir: Path) -> None:
    raw = data_dir / "iwslt17-raw-xml"
    for pair, lang in (("de-en", "de"), ("en-de", "en")):
        parsed = parse_wit3_xml(raw / f"IWSLT17.TED.tst2017.{pair}.{lang}.xml")
        assert parsed == read_lines(data_dir / "iwslt17-bilingual-tst2017" / pair / "src.txt")
        assert len(parsed) == 1138


def test_wit3_loader_pairs_source_and_reference(data_dir: Path, tmp_path: Path) -> None:
    # A WIT3 folder with both sides of en-de, built from the real XML files.
    raw = data_dir / "iwslt17-raw-xml"
    folder = tmp_path / "iwslt17-raw-xml"
    folder.mkdir()
    (folder / "IWSLT17.TED.tst2017.en-de.en.xml").write_bytes((raw / "IWSLT17.TED.tst2017.en-de.en.xml").read_bytes())
    (folder / "IWSLT17.TED.tst2017.en-de.de.xml").write_bytes((raw / "IWSLT17.TED.tst2017.de-en.de.xml").read_bytes())
    data = load_testdata(get_testset("iwslt17"), "en-de", tmp_path)
    assert data.origin.startswith("wit3-xml:")
    assert data.source == read_lines(data_dir / "iwslt17-bilingual-tst2017" / "en-de" / "src.txt")
    assert data.refs()["A"] == read_lines(data_dir / "iwslt17-bilingual-tst2017" / "en-de" / "ref.txt")


def test_wit3_parse_rule(tmp_path: Path) -> None:
    xml = tmp_path / "x.xml"
    xml.write_text('<mteval>\n<doc docid="1">\n<seg id="1">  Hello   world  </seg>\n  <seg id="2">indented is skipped</seg>\n'
                   '<seg id="3">A &amp; B</seg>\n</doc>\n</mteval>\n', encoding="utf-8")
    assert parse_wit3_xml(xml) == ["Hello world", "A &amp; B"]


def test_hf_loader_with_local_file_in_hub_format(tmp_path: Path) -> None:
    pytest.importorskip("datasets", reason="the `datasets` package (mtbench[hf-data]) is not installed")
    folder = tmp_path / "iwslt17-mltlng-tst2010"
    folder.mkdir()
    rows = [{"translation": {"it": f"Ciao {i}", "nl": f"Hallo {i}"}} for i in range(5)]
    (folder / "it-nl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load_testdata(get_testset("iwslt17-mltlng-tst2010"), "it-nl", tmp_path)
    assert data.origin.startswith("hf:")
    assert data.source == [f"Ciao {i}" for i in range(5)]
    assert data.refs()["A"] == [f"Hallo {i}" for i in range(5)]


def test_no_loader_has_it(tmp_path: Path) -> None:
    with pytest.raises(MtbenchError) as err:
        load_testdata(get_testset("iwslt17-mltlng"), "it-nl", tmp_path)
    msg = str(err.value)
    assert "no data for iwslt17-mltlng:it-nl" in msg and "local:" in msg and "wit3-xml:" in msg and "MTBENCH_DATA" in msg
    assert "\n" not in msg
