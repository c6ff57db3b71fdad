"""assess_table: every row equals assess() of the same answers (seeded random loop),
for pyarrow, pandas and Polars inputs, string and dictionary columns, nulls and bad
values."""

import random

import pyarrow as pa
import pytest

import carelevel

SEED = 20261204
BAD_TEXT = ["extreme", "Moderate", "", " high", "yes", "true"]


def random_rows(rs, rng, n, bad_rate=0.05, null_rate=0.15):
    """Random answer dicts, every question present as a key (None = unanswered)."""
    rows = []
    for _ in range(n):
        row = {}
        for q in rs.questions:
            r = rng.random()
            if r < null_rate:
                row[q["id"]] = None
            elif r < null_rate + bad_rate:
                row[q["id"]] = rng.choice(BAD_TEXT) if q["kind"] != "integer" else rng.choice([-1, 10**6])
            elif q["kind"] == "ordinal":
                row[q["id"]] = rng.choice(q["values"])
            elif q["kind"] == "boolean":
                row[q["id"]] = rng.random() < 0.5
            else:
                row[q["id"]] = rng.randint(q["min"], q["max"])
        rows.append(row)
    return rows


def column(values, kind, as_dictionary):
    """An Arrow column of one question: booleans stay booleans unless a bad text
    value is present (then the column is text, as it would be in a CSV)."""
    if all(v is None or isinstance(v, bool) for v in values):
        return pa.array(values, type=pa.bool_())
    if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
        return pa.array(values, type=pa.int64())
    text = [None if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for v in values]
    arr = pa.array(text, type=pa.string())
    return arr.dictionary_encode() if as_dictionary else arr


def table_of(rs, rows, as_dictionary):
    cols = {}
    for q in rs.questions:
        cols[q["id"]] = column([r[q["id"]] for r in rows], q["kind"], as_dictionary)
    return pa.table(cols)


def expected_row(rs, answers):
    try:
        a = rs.assess(answers)
    except (carelevel.AnswersError, carelevel.EvaluationError) as e:
        return {"error": str(e)}
    return {
        "level": a["level"]["id"],
        "level_lowest": a["level_range"]["lowest"]["id"],
        "level_highest": a["level_range"]["highest"]["id"],
        "refer": a["refer"],
        "needs_review": a["needs_review"],
        "deciding_rules": a["deciding_rules"],
        "flags": [f["id"] for f in a["flags"]],
        "error": None,
    }


def answers_as_in_table(table, i):
    """Row i as the dict assess() is given: the table's own values (text for text
    columns, so `true` in a text column is the text `true`)."""
    return {name: table.column(name)[i].as_py() for name in table.column_names}


def check_rows(rs, table, result):
    assert result.num_rows == table.num_rows
    got = result.to_pylist()
    for i, row in enumerate(got):
        want = expected_row(rs, answers_as_in_table(table, i))
        if want.get("error"):
            assert row["error"] == want["error"], i
            assert row["level"] is None and row["refer"] is None and row["flags"] is None
        else:
            assert row == want, (i, answers_as_in_table(table, i))


@pytest.mark.parametrize("as_dictionary", [False, True], ids=["string", "dictionary"])
@pytest.mark.parametrize("ruleset", ["rs", "six"])
def test_pyarrow_rows_equal_assess(request, ruleset, as_dictionary):
    rs = request.getfixturevalue(ruleset)
    rng = random.Random(SEED + as_dictionary)
    for round_ in range(8):
        rows = random_rows(rs, rng, 300, bad_rate=0.02 * round_, null_rate=0.04 * round_)
        table = table_of(rs, rows, as_dictionary)
        check_rows(rs, table, rs.assess_table(table))


def test_pandas_and_polars_inputs_give_the_same_result(rs):
    import pandas as pd
    import polars as pl
    rng = random.Random(SEED + 7)
    rows = random_rows(rs, rng, 2000)
    for as_dictionary in (False, True):
        table = table_of(rs, rows, as_dictionary)
        want = rs.assess_table(table)
        check_rows(rs, table, want)
        df = table.to_pandas()
        if as_dictionary:
            assert isinstance(df["severity"].dtype, pd.CategoricalDtype)
        assert rs.assess_table(df).to_pylist() == want.to_pylist()
        pdf = pl.from_arrow(table)
        if as_dictionary:
            assert pdf.schema["severity"] == pl.Categorical
        assert rs.assess_table(pdf).to_pylist() == want.to_pylist()


def test_record_batches_chunks_and_array_capsules(rs):
    rng = random.Random(SEED + 9)
    table = table_of(rs, random_rows(rs, rng, 1000), True)
    want = rs.assess_table(table).to_pylist()
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=77))
    assert rs.assess_table(chunked).to_pylist() == want
    batch = table.combine_chunks().to_batches()[0]
    assert hasattr(batch, "__arrow_c_array__")
    assert rs.assess_table(batch).to_pylist() == want

    class OnlyArray:
        """Offers only `__arrow_c_array__`, as a minimal producer would."""

        def __arrow_c_array__(self, requested_schema=None):
            return batch.__arrow_c_array__(requested_schema)

    assert rs.assess_table(OnlyArray()).to_pylist() == want


def test_integer_float_and_other_column_types(six):
    base = {"use_severity": ["moderate"] * 6}
    ints = pa.table({**base, "ciwa_score": pa.array([0, 12, 67, 68, -1, None], type=pa.int16())})
    floats = pa.table({**base, "ciwa_score": pa.array([0.0, 12.0, 67.0, 12.5, float("nan"), None])})
    unsigned = pa.table({**base, "ciwa_score": pa.array([0, 12, 67, 68, 2**64 - 1, None], type=pa.uint64())})
    for t in (ints, floats, unsigned):
        result = six.assess_table(t).to_pylist()
        for i, row in enumerate(result):
            want = expected_row(six, answers_as_in_table(t, i))
            if want.get("error"):
                assert row["error"] == want["error"], (t.schema, i)
            else:
                assert row == want, (t.schema, i)
    errors = [r["error"] for r in six.assess_table(unsigned).to_pylist()]
    assert errors[3] == "`ciwa_score`: 68 is outside the allowed range 0 to 67"
    assert "which is too large" in errors[4]
    nulls = pa.table({**base, "ciwa_score": pa.nulls(6)})
    assert [r["level"] for r in six.assess_table(nulls).to_pylist()] == [
        six.level({"use_severity": "moderate"})
    ] * 6


def test_bad_rows_are_never_dropped_and_never_stop_the_table(rs):
    t = pa.table({"severity": ["mild", "extreme", "severe", "Mild"], "harm_risk": ["low", "low", "none", "nope"]})
    result = rs.assess_table(t).to_pylist()
    assert len(result) == 4
    assert result[1]["error"].startswith("`severity`: `extreme` is not one of")
    assert result[3]["error"] == str(pytest.raises(carelevel.AnswersError, rs.assess, {"severity": "Mild", "harm_risk": "nope"}).value)
    assert result[0]["error"] is None and result[2]["error"] is None


def test_table_level_problems_raise(rs):
    with pytest.raises(carelevel.AnswersError) as info:
        rs.assess_table(pa.table({"severity": ["mild"], "person": ["p1"]}))
    assert info.value.problems[0]["factor"] == "person"
    assert "ignore=" in str(info.value)
    ok = rs.assess_table(pa.table({"severity": ["mild"], "person": ["p1"]}), ignore=["person"])
    assert ok.num_rows == 1
    with pytest.raises(TypeError, match="column `severity` has the Arrow type"):
        rs.assess_table(pa.table({"severity": pa.array([1.5], type=pa.float16())}))
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        rs.assess_table([{"severity": "mild"}])


def test_result_converts_to_pandas_and_polars(rs):
    import polars as pl
    import pandas  # noqa: F401
    t = pa.table({"severity": ["severe", None], "harm_risk": ["imminent", "none"]})
    result = rs.assess_table(t)
    assert result.column_names == [
        "level", "level_lowest", "level_highest", "refer", "needs_review",
        "deciding_rules", "flags", "error",
    ]
    df = result.to_pandas()
    assert list(df["level"].astype(str)) == ["residential", "residential"]
    assert df["refer"].tolist() == [True, False]
    pdf = pl.from_arrow(result)
    assert pdf["flags"].to_list()[0] == ["refer_imminent_harm", "review_high_harm"]


def test_empty_table(rs):
    result = rs.assess_table(pa.table({"severity": pa.array([], type=pa.string())}))
    assert result.num_rows == 0


def check_against_assess(rs, table):
    """Every row of `table` through assess_table equals assess() of that row."""
    result = rs.assess_table(table)
    assert result.num_rows == table.num_rows
    for i, row in enumerate(result.to_pylist()):
        want = expected_row(rs, answers_as_in_table(table, i))
        if want.get("error"):
            assert row["error"] == want["error"], (i, answers_as_in_table(table, i))
            assert row["level"] is None
        else:
            assert row == want, (i, answers_as_in_table(table, i))
    return result


def test_dictionary_fast_path_edge_cases(rs):
    """Dictionaries are decoded once per batch into a lookup table: values no row uses,
    a null dictionary value, out-of-scale values, null keys that point at a bad value,
    and every key type give the same rows as assess(), and bad rows stay in place."""
    rng = random.Random(SEED + 11)
    values = ["none", "mild", "moderate", "severe", "extreme", "Mild", None, "unused-but-bad", "severe "]
    n = 500
    # Keys only ever point at the first seven values; the last two are never used.
    keys = [rng.randrange(7) for _ in range(n)]
    mask = [rng.random() < 0.1 for _ in range(n)]  # null keys (some point at "extreme")
    for key_type in (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()):
        dict_col = pa.DictionaryArray.from_arrays(
            pa.array(keys, type=key_type, mask=mask), pa.array(values, type=pa.string())
        )
        harm = pa.array([rng.choice(["none", "low", "high", None, "nope"]) for _ in range(n)]).dictionary_encode()
        table = pa.table({"severity": dict_col, "harm_risk": harm})
        result = check_against_assess(rs, table)
        errors = result.column("error").to_pylist()
        for i, (k, masked) in enumerate(zip(keys, mask)):
            if masked or values[k] is None or values[k] in ("none", "mild", "moderate", "severe"):
                continue
            assert errors[i] is not None and errors[i].startswith("`severity`: "), (key_type, i)


def test_string_fast_path_edge_cases(rs):
    """Plain strings are matched against the scale by a packed comparison: prefixes,
    extensions, case, long texts and texts sharing the first 16 bytes are refused as
    assess() refuses them, in Utf8, LargeUtf8 and Utf8View columns alike."""
    texts = [
        "none", "non", "none ", "None", "", "mild", "mildx", "moderate", "moderately", "severe",
        "severe" + "\0", "x" * 16, "x" * 17, "moderate moderate moderate", None,
    ]
    rng = random.Random(SEED + 13)
    rows = [rng.choice(texts) for _ in range(400)]
    for typ in (pa.string(), pa.large_string(), pa.string_view()):
        table = pa.table({
            "severity": pa.array(rows, type=typ),
            "mental_health": pa.array(list(reversed(rows)), type=typ),
        })
        check_against_assess(rs, table)


def test_boolean_columns_with_nulls_and_for_other_kinds(rs):
    """Booleans are decoded once per value: a boolean question with nulls, and a
    boolean column given to an ordinal question (every such row is an error row)."""
    rng = random.Random(SEED + 17)
    flags = [rng.choice([True, False, None]) for _ in range(300)]
    table = pa.table({
        "severity": pa.array([rng.choice(["mild", "severe"]) for _ in flags]),
        "step_down_from_inpatient": pa.array(flags, type=pa.bool_()),
        "housing": pa.array([None if f is None else not f for f in flags], type=pa.bool_()),
    })
    result = check_against_assess(rs, table)
    errors = result.column("error").to_pylist()
    assert [e is not None for e in errors] == [f is not None for f in flags]


def narrow_keys(table, key_type):
    """The dictionary columns of `table` with indices of `key_type`."""
    cols = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = pa.DictionaryArray.from_arrays(col.indices.cast(key_type), col.dictionary)
        cols[name] = col
    return pa.table(cols)


@pytest.mark.parametrize("layout", ["string", "int8", "int16", "int32"])
def test_large_batches_slices_and_the_kept_memo(rs, layout):
    """A single batch of 150,000 rows (past the 65,536-row chunks assess_table works
    in), sliced at offsets that cut chunks, through a fresh Ruleset (empty memo) and
    again through one that has seen other tables (memo kept between calls): every row
    equals assess() of its answers, and all runs agree."""
    rng = random.Random(SEED + 17)
    base_rows = random_rows(rs, rng, 3000)
    base = table_of(rs, base_rows, layout != "string")
    want = [expected_row(rs, answers_as_in_table(base, i)) for i in range(base.num_rows)]
    big = pa.concat_tables([base] * 50).combine_chunks()
    if layout != "string":
        big = narrow_keys(big, getattr(pa, layout)())
    assert big.num_rows == 150_000 and len(big.to_batches()) == 1

    def check(result, start):
        assert result.num_rows > 0
        for i, row in enumerate(result.to_pylist()):
            w = want[(start + i) % len(want)]
            if w.get("error"):
                assert row["error"] == w["error"], start + i
                assert row["level"] is None
            else:
                assert row == w, start + i

    fresh = carelevel.Ruleset.default().assess_table(big)
    assert fresh.num_rows == big.num_rows
    assert len(fresh.to_batches()) == 3  # chunks of 65,536 rows: one output batch each
    check(fresh, 0)
    # A ruleset that has assessed other answers first (its memo holds their results).
    used = carelevel.Ruleset.default()
    used.assess_table(table_of(rs, random_rows(rs, random.Random(SEED + 19), 2000), True))
    again = used.assess_table(big)
    assert again.equals(fresh)
    assert used.assess_table(big).equals(fresh)
    # Slices of one batch: offsets not at 0, cutting the internal chunks.
    for start, length in [(1, 65_536), (65_535, 3), (12_345, 80_000), (149_999, 1)]:
        part = used.assess_table(big.slice(start, length))
        assert part.num_rows == length
        assert part.equals(fresh.slice(start, length)), (start, length)
    check(used.assess_table(big.slice(70_001, 5000)), 70_001)
