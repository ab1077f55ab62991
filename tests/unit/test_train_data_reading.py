"""Training files are read by the one strict reader (textio.read_lines), then without
a line-final CR: a CRLF file gives the pairs its LF copy gives; bad files fail in one
line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from mtbench.errors import MtbenchError  # noqa: E402
from mtbench.train.data import read_lines, read_parallel  # noqa: E402


def test_crlf_training_files_give_the_pairs_of_their_lf_copies(tmp_path: Path) -> None:
    lf_src, lf_tgt = tmp_path / "a.de", tmp_path / "a.en"
    lf_src.write_bytes(b"Guten Tag.\nDas Haus.\n")
    lf_tgt.write_bytes(b"Good day.\nThe house.\n")
    cr_src, cr_tgt = tmp_path / "b.de", tmp_path / "b.en"
    cr_src.write_bytes(b"\xef\xbb\xbfGuten Tag.\r\nDas Haus.\r\n")  # BOM and CRLF, as Windows editors write
    cr_tgt.write_bytes(b"Good day.\r\nThe house.\r\n")
    assert read_lines(cr_src) == ["Guten Tag.", "Das Haus."]
    assert read_parallel(cr_src, cr_tgt, "de", "en") == read_parallel(lf_src, lf_tgt, "de", "en")


@pytest.mark.parametrize("content, message", [
    (None, "training file not found"),
    (b"\x00\x01\x02binary\x00" * 50, "training file looks binary"),
    (b"caf\xe9\n", "training file"),
])
def test_bad_training_files_fail_in_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "train.de"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MtbenchError) as err:
        read_lines(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
