"""leaderboard.tex escapes every character LaTeX treats specially in text (the LaTeX
Companion's list: # $ % & _ { } ~ ^ \\), in one pass, so escapes are never escaped twice."""

from __future__ import annotations

import pytest

from mtbench.report.leaderboard import _esc_tex


@pytest.mark.parametrize("text, tex", [
    ("a_b", r"a\_b"),
    ("{x}", r"\{x\}"),
    ("x^2~y", r"x\textasciicircum{}2\textasciitilde{}y"),
    ("C:\\runs", r"C:\textbackslash{}runs"),
    ("50% & #1 $", r"50\% \& \#1 \$"),
    ("xx->en", r"xx$\rightarrow$en"),
    ("p < 0.05", r"p $<$ 0.05"),
    ("A > B", r"A $>$ B"),
])
def test_escape(text: str, tex: str) -> None:
    assert _esc_tex(text) == tex
