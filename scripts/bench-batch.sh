#!/usr/bin/env bash
# Throughput and peak memory of `carelevel batch` on large synthetic inputs.
#
#   scripts/bench-batch.sh [RECORDS] [BIG_RECORDS]
#
# Generates (once, deterministically) RECORDS (default 2,000,000) records as JSON
# Lines and CSV with the default ruleset's questions: ~90% complete, ~10% with one
# or two answers missing, 0.1% bad records (malformed JSON, unknown question, value
# outside the scale; CSV: wrong field counts). Builds release and measures, best of
# RUNS (default 3) runs each, output to /dev/null unless said otherwise:
#
#   parse-only   serde_json parsing every line (IgnoredAny, Value), same pipeline: the ceiling
#   compact      carelevel batch IN.jsonl
#   full         carelevel batch IN.jsonl --fields full
#   csv          CSV in, CSV out (compact and full)
#   --output     compact to a file (temporary file, fsync, rename)
#   full file    full output of the first FULL_FILE_RECORDS records to a file, and `cp`
#                of those output bytes to another file (the byte ceiling)
#   big          BIG_RECORDS (default 20,000,000: ~4.4 GB) compact and full, for flat memory
#
# Records/s = records / wall-clock seconds of the whole process (GNU time), for the
# fastest run; "CPU s" is its user + system time (on a busy machine, records per
# CPU second is the steadier figure); peak RSS is the largest of the runs. Files go
# to $BENCH_DIR (default /tmp/carelevel-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${1:-2000000}
BIG=${2:-20000000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/carelevel-bench}
TIME=/usr/bin/time

if ! "$TIME" -f "%e" true >/dev/null 2>&1; then
    echo "GNU time is needed for peak memory: apt-get install -y time" >&2
    exit 1
fi

cargo build --release --locked -q -p carelevel-cli --bin carelevel --example batch_input && cargo build --release --locked -q -p carelevel-batch --example batch_ceiling
BIN=target/release/carelevel
GEN=target/release/examples/batch_input
CEILING=target/release/examples/batch_ceiling
mkdir -p "$DIR"

generate() { # RECORDS FORMAT FILE
    if [[ ! -s "$3" ]]; then
        echo "generating $3 ($1 records)" >&2
        "$GEN" --records "$1" --format "$2" > "$3.part" && mv "$3.part" "$3"
    fi
}
JSONL="$DIR/people-$RECORDS.jsonl"
CSV="$DIR/people-$RECORDS.csv"
generate "$RECORDS" jsonl "$JSONL"
generate "$RECORDS" csv "$CSV"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB RAM"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $RECORDS records, $(du -h "$JSONL" | cut -f1) JSON Lines, $(du -h "$CSV" | cut -f1) CSV"
printf '%-34s %12s %10s %8s %12s\n' "run" "records/s" "seconds" "CPU s" "peak RSS"

measure() { # LABEL RECORDS COMMAND...
    local label=$1 records=$2
    shift 2
    local best="" cpu="" rss=0 report
    report=$(mktemp)
    for _ in $(seq "$RUNS"); do
        # Exit code 1 (some records were errors) is expected: the inputs hold bad records.
        local rc=0
        "$TIME" -o "$report" -f "%e %M %U %S" "$@" >/dev/null 2>&1 || rc=$?
        if (( rc > 1 )); then
            echo "failed (exit code $rc): $*" >&2
            exit 1
        fi
        local secs kb user sys
        read -r secs kb user sys < <(tail -1 "$report")
        if [[ -z "$best" ]] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$secs
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
        fi
        if (( kb > rss )); then rss=$kb; fi
    done
    rm -f "$report"
    awk -v l="$label" -v n="$records" -v s="$best" -v c="$cpu" -v m="$rss" \
        'BEGIN { printf "%-34s %12.0f %10.2f %8.2f %9.1f MB\n", l, (s > 0 ? n / s : 0), s, c, m / 1024 }'
}

measure "parse-only IgnoredAny (ceiling)" "$RECORDS" "$CEILING" "$JSONL"
measure "parse-only serde_json::Value" "$RECORDS" "$CEILING" "$JSONL" --value
measure "compact jsonl -> jsonl" "$RECORDS" "$BIN" batch "$JSONL"
measure "compact jsonl -> jsonl, 1 thread" "$RECORDS" "$BIN" batch "$JSONL" --threads 1
measure "full jsonl -> jsonl" "$RECORDS" "$BIN" batch "$JSONL" --fields full
measure "full jsonl -> jsonl, 1 thread" "$RECORDS" "$BIN" batch "$JSONL" --fields full --threads 1
measure "compact csv -> csv" "$RECORDS" "$BIN" batch "$CSV" --format csv
measure "full jsonl -> csv" "$RECORDS" "$BIN" batch "$JSONL" --fields full --format csv
measure "compact jsonl -> --output file" "$RECORDS" "$BIN" batch "$JSONL" --output "$DIR/out.jsonl"
rm -f "$DIR/out.jsonl"

# Full output to a file, against copying the same bytes (is it limited by output bytes
# or by CPU?): the first FULL_FILE_RECORDS (default 200,000, ~1.9 GB of output) records.
FULL_FILE_RECORDS=${FULL_FILE_RECORDS:-200000}
head -n "$FULL_FILE_RECORDS" "$JSONL" > "$DIR/full-in.jsonl"
measure "full jsonl -> --output file" "$FULL_FILE_RECORDS" "$BIN" batch "$DIR/full-in.jsonl" --fields full --output "$DIR/full-out.jsonl"
echo "  output: $(du -m "$DIR/full-out.jsonl" | cut -f1) MB for $FULL_FILE_RECORDS records"
# `--output` syncs its file before renaming it into place; so does the copy.
measure "cp + sync of that output (ceiling)" "$FULL_FILE_RECORDS" sh -c 'cp "$1" "$2" && sync "$2"' _ "$DIR/full-out.jsonl" "$DIR/full-copy.jsonl"
rm -f "$DIR/full-in.jsonl" "$DIR/full-out.jsonl" "$DIR/full-copy.jsonl"

if [[ "$BIG" -gt 0 ]]; then
    BIG_JSONL="$DIR/people-$BIG.jsonl"
    generate "$BIG" jsonl "$BIG_JSONL"
    echo "big input: $BIG records, $(du -h "$BIG_JSONL" | cut -f1)"
    RUNS=1 measure "big compact jsonl -> jsonl" "$BIG" "$BIN" batch "$BIG_JSONL"
    RUNS=1 measure "big full jsonl -> jsonl" "$BIG" "$BIN" batch "$BIG_JSONL" --fields full
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
