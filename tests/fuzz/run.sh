#!/usr/bin/env bash
# Runs every built libFuzzer target in build-fuzz/tests/fuzz/ for FUZZ_SECONDS each (first argument,
# default 30) with its seed corpus from tests/fuzz/corpus/<target>/. New inputs go to a scratch corpus
# in the build directory, never into the source tree. Exits non-zero if any target crashes, leaks,
# times out or trips a sanitizer; the reproducer is left in build-fuzz/tests/fuzz/artifacts/<target>/.
#
#   tests/fuzz/run.sh            # 30 s each
#   tests/fuzz/run.sh 60         # 60 s each
#   BUILD_DIR=build-fuzz-codec tests/fuzz/run.sh 10
set -uo pipefail

seconds="${1:-${FUZZ_SECONDS:-30}}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-build-fuzz}"
[[ "$build" = /* ]] || build="$root/$build"
bin_dir="$build/tests/fuzz"

# Inputs longer than this are not generated: big enough to cross each parser's limits.
maxLen() {
  case "$1" in
    http_request_fuzz) echo 20000 ;;   # > 16 KiB head limit
    http_response_fuzz) echo 8192 ;;
    ssrf_fuzz) echo 256 ;;
    *) echo 4096 ;;
  esac
}

shopt -s nullglob
targets=("$bin_dir"/*_fuzz)
if ((${#targets[@]} == 0)); then
  echo "run.sh: no fuzz targets in $bin_dir (build them: cmake --preset fuzz && cmake --build build-fuzz)" >&2
  exit 2
fi

failed=()
for bin in "${targets[@]}"; do
  [[ -x "$bin" && -f "$bin" ]] || continue
  name="$(basename "$bin")"
  seeds="$root/tests/fuzz/corpus/$name"
  work="$bin_dir/corpus-work/$name"
  artifacts="$bin_dir/artifacts/$name"
  mkdir -p "$work" "$artifacts"
  corpora=("$work")
  [[ -d "$seeds" ]] && corpora+=("$seeds")
  echo "== $name: ${seconds}s, -max_len=$(maxLen "$name")"
  if ! "$bin" "${corpora[@]}" -max_total_time="$seconds" -max_len="$(maxLen "$name")" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" 2>"$bin_dir/$name.log"; then
    echo "!! $name failed; log: $bin_dir/$name.log, reproducer in $artifacts/" >&2
    tail -n 40 "$bin_dir/$name.log" >&2
    failed+=("$name")
  else
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+.*DONE' \
      "$bin_dir/$name.log" || true
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
echo "all fuzz targets ran clean"
