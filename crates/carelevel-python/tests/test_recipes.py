"""The Spark (mapInArrow) and Polars (map_batches) recipes of docs/python.md, tested
against `carelevel batch` on the same generated rows."""

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import carelevel

SPARK_ROWS = int(os.environ.get("CARELEVEL_SPARK_ROWS", "1000000"))


def generate(rs, n, seed=5):
    """n rows of random answers (10% unanswered, 0.1% bad values) with an `id` column."""
    rng = np.random.default_rng(seed)
    cols = {"id": pa.array(np.arange(n, dtype=np.int64))}
    for q in rs.questions:
        if q["kind"] == "ordinal":
            values = np.array(q["values"] + ["extreme"], dtype=object)
            p = [0.999 / len(q["values"])] * len(q["values"]) + [0.001]
            picked = values[rng.choice(len(values), size=n, p=p)]
            mask = rng.random(n) < 0.10
            cols[q["id"]] = pa.array(picked, type=pa.string(), mask=mask)
        elif q["kind"] == "boolean":
            cols[q["id"]] = pa.array(rng.random(n) < 0.3, mask=rng.random(n) < 0.10)
    return pa.table(cols)


def batch_levels(cli, table, tmp_path):
    """Levels from `carelevel batch` on the same rows written as CSV: id -> level or None."""
    src, out = tmp_path / "people.csv", tmp_path / "results.csv"
    pacsv.write_csv(table, src, pacsv.WriteOptions(quoting_style="none"))
    subprocess.run([cli, "batch", str(src), "--output", str(out)], capture_output=True, check=False)
    result = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(
        column_types={"id": pa.int64(), "level": pa.string()}, strings_can_be_null=True))
    return result.select(["id", "level"]).sort_by("id")


# --- Spark recipe (docs/python.md) -----------------------------------------------------

def assess_partition(rules_yaml):
    """mapInArrow function: assess each Arrow batch, keep the id, plain string columns."""
    def run(batches):
        import carelevel
        import pyarrow as pa

        rs = carelevel.Ruleset.from_yaml(rules_yaml)
        for batch in batches:
            out = rs.assess_table(batch, ignore=["id"])
            out = pa.table({
                "id": batch.column("id"),
                "level": out.column("level").cast(pa.string()),
                "refer": out.column("refer"),
                "needs_review": out.column("needs_review"),
                "flags": out.column("flags").cast(pa.list_(pa.string())),
                "error": out.column("error"),
            })
            yield from out.to_batches()
    return run


SPARK_SCHEMA = "id long, level string, refer boolean, needs_review boolean, flags array<string>, error string"


def test_spark_map_in_arrow_gives_the_levels_of_carelevel_batch(root, cli, tmp_path):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Java is not installed: the Spark recipe test needs a JVM (Java 17); .ci/python installs it")
    from pyspark.sql import SparkSession

    rules_yaml = (root / "rules" / "default.yaml").read_text()
    rs = carelevel.Ruleset.from_yaml(rules_yaml)
    table = generate(rs, SPARK_ROWS)
    pq.write_table(table, tmp_path / "people.parquet")
    t0 = time.perf_counter()
    want = batch_levels(cli, table, tmp_path)
    t_batch = time.perf_counter() - t0

    # The Python workers must be this interpreter (with carelevel and pyarrow).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]").appName("carelevel-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
        .getOrCreate()
    )
    try:
        t0 = time.perf_counter()
        df = spark.read.parquet(str(tmp_path / "people.parquet"))
        result = df.mapInArrow(assess_partition(rules_yaml), SPARK_SCHEMA)
        result.write.parquet(str(tmp_path / "spark-out"))
        t_spark = time.perf_counter() - t0
    finally:
        spark.stop()
    got = pq.read_table(tmp_path / "spark-out").select(["id", "level"]).sort_by("id")
    print(f"\n{SPARK_ROWS} rows: carelevel batch {t_batch:.1f} s, Spark mapInArrow {t_spark:.1f} s")
    assert got.num_rows == SPARK_ROWS == want.num_rows
    assert got.column("id").equals(want.column("id"))
    assert got.column("level").to_pylist() == want.column("level").to_pylist()
    errors = pq.read_table(tmp_path / "spark-out", columns=["error"]).column("error")
    assert 0 < errors.null_count < SPARK_ROWS  # some bad rows, kept, not dropped


# --- Polars recipe (docs/python.md) ----------------------------------------------------

def test_polars_map_batches_gives_the_levels_of_carelevel_batch(cli, rs, tmp_path):
    import polars as pl
    table = generate(rs, 50_000, seed=9)
    want = batch_levels(cli, table, tmp_path)

    questions = [q["id"] for q in rs.questions]

    def assess(df: "pl.DataFrame") -> "pl.DataFrame":
        result = pl.from_arrow(rs.assess_table(df.select(questions)))
        return df.select("id").hstack(result.get_columns())

    lf = pl.from_arrow(table).lazy()
    # map_batches needs the output schema: the result of an empty frame has it.
    schema = assess(lf.head(0).collect()).schema
    got = lf.map_batches(assess, schema=schema, streamable=True).collect()
    assert got.columns[:2] == ["id", "level"]
    got = got.sort("id")
    assert got["id"].to_list() == want.column("id").to_pylist()
    assert got["level"].cast(pl.String).to_list() == want.column("level").to_pylist()
