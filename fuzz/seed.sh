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
# CSV batch input: the example cases, the CLI's CSV fixtures, and a stray quote.
mkdir -p corpus/batch_csv
cp "$root"/examples/cases/people.csv corpus/batch_csv/seed-people.csv
for f in "$root"/tests/cli/fixtures/*.csv; do
    cp "$f" "corpus/batch_csv/seed-$(basename "$f")"
done
printf 'id,risk,alone\na,lots,true\n"b,none,false\nc,some,true\nd",lots,false\n' > corpus/batch_csv/seed-stray-quote.csv
printf 'id,risk,alone\r\n"a,""1""",lots,true\r\n\r\nb,none,false' > corpus/batch_csv/seed-crlf-quoted.csv
