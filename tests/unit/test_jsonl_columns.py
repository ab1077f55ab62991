"""The per-segment files are written a column at a time (textio.jsonl_from_columns):
byte for byte what json.dumps(row, ensure_ascii=False) per row writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mtbench.textio import jsonl_from_columns

values = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True), st.text(), st.none(),
                   st.booleans(), st.lists(st.integers(), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 6).flatmap(lambda n: st.dictionaries(st.text(min_size=1), st.lists(values, min_size=n, max_size=n),
                                                            min_size=1, max_size=4)))
def test_columns_write_what_json_dumps_writes_per_row(columns: dict) -> None:
    rows = [dict(zip(columns, cells)) for cells in zip(*columns.values())]
    assert jsonl_from_columns(columns) == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_the_values_that_need_care() -> None:
    columns = {"id": [0, 1, 2, 3], "score": [0.1 + 0.2, float("nan"), -float("inf"), 1e-300],
               "lang": ['a"b\\\n', "\x00é", "", "\u2028"]}
    rows = [dict(zip(columns, cells)) for cells in zip(*columns.values())]
    assert jsonl_from_columns(columns) == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
