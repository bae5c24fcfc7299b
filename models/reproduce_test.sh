#!/usr/bin/env bash
# models/reproduce_test.sh MODEL_EXE... — every expected failure's
# counterexample is readable, on every checker: for each model of each
# executable that must fail (--list: expected is not "holds"),
# `--reproduce MODEL` must
# - exit 0 and print at most 60 lines by default;
# - start with the summary, right after the verdict line: a data race names
#   both accesses (thread, operation, file:line); a deadlock names each
#   blocked thread with its operation, file:line and the locks it holds; a
#   failed check names the check and its file:line;
# - print the interleaving once, as a table, without template arguments or
#   the checker's own source lines (--verbose shows those);
# - end with the replay command and an INTERLEAVE_MODEL_REPLAY registration
#   carrying the same token (a replay registration itself, *.replay_*, ends
#   with the replay command).
# `--verbose` must print every step, with its function.
set -uo pipefail
max_lines=60
fail=0
checked=0
bad() { echo "FAIL $exe_name $model: $*"; fail=1; }
loc='[A-Za-z0-9_./-]+\.(hpp|cpp|h):[0-9]+'
for exe in "$@"; do
  exe_name=$(basename "$exe")
  while IFS=$'\t' read -r model _row expected _search _checker; do
    [ "$expected" = holds ] && continue
    out=$("$exe" --reproduce "$model" 2>&1); rc=$?
    checked=$((checked + 1))
    lines=$(wc -l <<<"$out")
    printf '%-26s %-48s %3d lines\n' "$exe_name" "$model" "$lines"
    [ $rc -eq 0 ] || { bad "--reproduce exited $rc"; continue; }
    [ "$lines" -le $max_lines ] || bad "$lines lines, more than $max_lines"
    second=$(sed -n 2p <<<"$out")
    case $expected in
      data_race)
        [[ $second == "  data race: two accesses to "* ]] || bad "the summary does not open the output: '$second'"
        for side in earlier racing; do
          sed -n '3,4p' <<<"$out" | grep -qE "^    $side +(main|T[0-9]+) +(read|write|load|store)[a-z_]* +$loc " ||
            bad "the summary does not name the $side access with its thread, operation and line"
        done ;;
      deadlock)
        [[ $second == "  deadlock"* ]] || bad "the summary does not open the output: '$second'"
        n=$(grep -cE "^    (main|T[0-9]+) +blocked in .+ at $loc, holding " <<<"$out")
        [ "$n" -ge 1 ] || bad "the summary names no blocked thread with its line and the locks it holds" ;;
      assertion)
        [[ $second =~ ^"  check failed: ".+" at "$loc$ ]] || bad "the summary does not name the failed check and its line: '$second'" ;;
      livelock)
        [[ $second == "  livelock: "* ]] || bad "the summary does not open the output: '$second'" ;;
    esac
    [ "$(grep -c '^  interleaving (' <<<"$out")" -eq 1 ] || bad "the interleaving is not printed exactly once"
    ! grep -qE '\[with |/usr/include/relacy|models/dpor/' <<<"$out" ||
      bad "template arguments or the checker's own lines in the default output"
    token=$(sed -n "s/^  replay: ci\/verify --replay '\(.*\)'$/\1/p" <<<"$out")
    [ -n "$token" ] || bad "no replay command"
    if [[ $model != *.replay_* ]]; then
      grep -qF "INTERLEAVE_MODEL_REPLAY(" <<<"$out" && tail -1 <<<"$out" | grep -qF "\"$token\");" ||
        bad "no INTERLEAVE_MODEL_REPLAY registration carrying the replay token at the end"
    fi
    verbose=$("$exe" --reproduce "$model" --verbose 2>&1)
    [ "$(wc -l <<<"$verbose")" -ge "$lines" ] && grep -qE '^    step +thread +operation +line +function' <<<"$verbose" ||
      bad "--verbose does not print the whole table with functions"
  done < <("$exe" --list)
done
echo "$checked counterexamples checked"
[ "$checked" -gt 0 ] || { echo "FAIL no expected failure found in: $*"; fail=1; }
exit $fail
