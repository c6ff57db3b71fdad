"""One Ruleset shared by many threads: same results as one thread."""

import random
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from test_table import SEED, random_rows, table_of


def test_one_ruleset_many_threads(rs):
    rng = random.Random(SEED + 11)
    rows = random_rows(rs, rng, 400, bad_rate=0.0)
    tables = [table_of(rs, rows[i::4], i % 2 == 0) for i in range(4)]
    want_tables = [rs.assess_table(t).to_pylist() for t in tables]
    want_levels = []
    for r in rows:
        try:
            want_levels.append(rs.level(r))
        except ValueError as e:
            want_levels.append(str(e))

    def level(r):
        try:
            return rs.level(r)
        except ValueError as e:
            return str(e)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(level, rows)) == want_levels
            assert list(pool.map(lambda t: rs.assess_table(t).to_pylist(), tables)) == want_tables
            got = list(pool.map(rs.assess, rows[:50]))
            assert got == [rs.assess(r) for r in rows[:50]]
