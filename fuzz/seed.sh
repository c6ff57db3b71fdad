#!/usr/bin/env bash
# Seed the fuzz corpora (fuzz/corpus/, git-ignored) from the bundled rulesets,
# examples and test files. Run from anywhere; idempotent.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/ruleset corpus/answers corpus/evaluate
# Rulesets and test files (the ruleset target also feeds test-file parsing).
for f in "$root"/rules/*.yaml "$root"/examples/rulesets/*.yaml "$root"/examples/policy-change/*.yaml; do
    cp "$f" "corpus/ruleset/seed-$(basename "$f")"
done
# Answers: YAML and JSON files, and each line of the JSONL cases.
for f in "$root"/examples/answers/*; do
    cp "$f" "corpus/answers/seed-$(basename "$f")"
done
n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" > "corpus/answers/seed-people-$n.json"
done < "$root"/examples/cases/people.jsonl
# The evaluate target reads structured bytes; any bytes are a valid start.
for f in "$root"/rules/*.yaml "$root"/examples/answers/*; do
    cp "$f" "corpus/evaluate/seed-$(basename "$f")"
done
# Issue 8 shapes: a BOM directly before the first key; alias fan-out (one anchored
# condition reused by many rules) and nested anchors; a heavy but valid ruleset.
bom=$(printf '\357\273\277')
for f in "$root"/rules/default.yaml "$root"/examples/rulesets/six-levels.yaml; do
    { printf '%s' "$bom"; grep -v '^#' "$f"; } > "corpus/ruleset/seed-bom-$(basename "$f")"
done
{ printf '%s' "$bom"; cat "$root"/examples/answers/iop.json; } > corpus/answers/seed-bom-iop.json
head='id: t
version: "1"
title: T
description: D
levels:
  - {id: low, label: Low, description: l}
  - {id: high, label: High, description: h}'
{
    echo "$head"; echo "factors:"
    for i in 0 1 2 3; do echo "  - {id: f$i, question: q, kind: boolean}"; done
    echo "rules:"
    echo "  - {id: r0, level: high, because: b, when: &b {any: [{f0: true}, {f1: true}, {all: [{f2: true}, {f3: true}]}]}}"
    for r in $(seq 1 40); do echo "  - {id: r$r, level: high, because: b, when: *b}"; done
} > corpus/ruleset/seed-fan-out.yaml
{
    echo "id: t"; echo "sources:"; echo "  - &a0 [x, x]"
    for d in 1 2 3 4 5; do echo "  - &a$d [*a$((d - 1)), *a$((d - 1)), *a$((d - 1))]"; done
} > corpus/ruleset/seed-nested-anchors.yaml
{
    echo "$head"; echo "factors:"
    for i in 0 1 2 3; do
        printf '  - id: n%s\n    question: q\n    kind: integer\n    min: 0\n    max: 409\n    bands:\n' "$i"
        for b in $(seq 0 40); do echo "      - {id: b$b, min: $((b * 10)), max: $((b * 10 + 9))}"; done
    done
    echo "rules:"
    for r in $(seq 0 249); do
        echo "  - {id: r$r, level: high, because: b, when: {all: [{n$((r % 4)): {at_least: $(((r * 7) % 410))}}, {n$(((r + 1) % 4)): b$((r % 41))}]}}"
    done
} > corpus/ruleset/seed-heavy-bands.yaml
# CSV batch input: the example cases, the CLI's CSV fixtures, and a stray quote.
mkdir -p corpus/batch_csv
cp "$root"/examples/cases/people.csv corpus/batch_csv/seed-people.csv
for f in "$root"/tests/cli/fixtures/*.csv; do
    cp "$f" "corpus/batch_csv/seed-$(basename "$f")"
done
printf 'id,risk,alone\na,lots,true\n"b,none,false\nc,some,true\nd",lots,false\n' > corpus/batch_csv/seed-stray-quote.csv
printf 'id,risk,alone\r\n"a,""1""",lots,true\r\n\r\nb,none,false' > corpus/batch_csv/seed-crlf-quoted.csv
