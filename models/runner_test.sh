#!/usr/bin/env bash
# models/runner_test.sh MODEL_EXE ROW MODEL_SOURCE — the runner's contract
# on one model executable, checked end to end:
# - `--reproduce ROW` prints a replay token naming the checker, and
#   `--replay TOKEN` re-runs exactly that failing execution;
# - it prints an INTERLEAVE_MODEL_REPLAY registration of a model template
#   that MODEL_SOURCE registers, with that token; the replay registrations
#   MODEL_SOURCE holds for this checker run and pass ("replayed");
# - a damaged token, a string that is not a token, and a well-formed token
#   made for another checker are refused (exit 2) with a message saying so;
# - a holds-model stopped by `--budget` / INTERLEAVE_MODEL_BUDGET_S says
#   "bounded by budget", never "proved";
# - `--report` leaves one final record per model (the "started" line replaced);
# - where the checker can: `--shard I/N` runs merged with `--merge` prove
#   the model with the unsharded execution count (1 and 3 shards), a merge
#   missing a shard fails, and an execution budget says "bounded by budget";
#   elsewhere `--shard` is refused by name.
set -uo pipefail
exe=$1
row=$2
source=$3
fail=0
check() {  # check NAME CONDITION-RESULT
  if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
fnv() {  # FNV-1a of $1, as the runner computes it
  local s=$1 h=2166136261 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
  done
  printf '%08x' "$h"
}

out=$("$exe" --reproduce "$row")
token=$(printf '%s\n' "$out" | sed -n "s/^  replay: ci\/verify --replay '\(.*\)'$/\1/p")
checker=${token%%:*}
[ -n "$token" ] && [ "$(fnv "${token%:*}")" = "${token##*:}" ]
check "reproduce prints a token whose checksum the runner's FNV-1a matches" $?
[ -n "$checker" ] && "$exe" --list | awk -F'\t' -v c="$checker" '$5 == c { f = 1 } END { exit !f }'
check "the token names this executable's checker ($checker)" $?

tmpl=$(printf '%s\n' "$out" | sed -n 's/^    INTERLEAVE_MODEL_REPLAY(\([A-Za-z0-9_]*\), .*/\1/p')
[ -n "$tmpl" ] && grep -qE "^INTERLEAVE_MODEL\($tmpl," "$source" && printf '%s\n' "$out" | tail -1 | grep -qF "\"$token\");"
check "reproduce prints a replay registration of $tmpl, a template $(basename "$source") registers, with the token" $?

replays=$("$exe" --list | awk -F'\t' '$1 ~ /\.replay_/' | wc -l)
out=$("$exe" --filter ".replay_$checker" 2>&1); rc=$?
[ "$replays" -ge 1 ] && [ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c '^PASS .*: replayed — ')" -eq "$replays" ]
check "the $replays replay registration(s) of $(basename "$source") for $checker pass, each replaying its token" $?

out=$("$exe" --replay "$token" 2>&1); rc=$?
[ $rc -eq 0 ] && [[ $out == "replay of "* ]] && [[ $out != *diverged* ]]
check "replay of the token re-runs the failing execution" $?

last=${token: -1}
[ "$last" = 0 ] && swap=1 || swap=0
err=$("$exe" --replay "${token%?}$swap" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [[ $err == *damaged* ]]
check "a damaged token is refused: $err" $?

err=$("$exe" --replay "not-a-token" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [[ $err == *"is not a replay token"* ]]
check "a string that is not a token is refused: $err" $?

other=other${token#"$checker"}
other="${other%:*}:$(fnv "${other%:*}")"
err=$("$exe" --replay "$other" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [[ $err == *"for the 'other' checker"* ]]
check "a well-formed token of another checker is refused: $err" $?

holds=$("$exe" --list | awk -F'\t' '$3 == "holds" && $4 ~ /^full/ { print $1; exit }')
report=$(mktemp)
out=$(INTERLEAVE_MODEL_BUDGET_S=0.000001 "$exe" --model "$holds" --report "$report" 2>/dev/null); rc=$?
[ $rc -eq 0 ] && [[ $out == *"bounded by budget"* ]] && [[ $out != *proved* ]]
check "a budget-stopped search says 'bounded by budget', not 'proved' ($holds)" $?
[ "$(wc -l <"$report")" -eq 1 ] && grep -q '"verdict":"bounded by budget"' "$report" && ! grep -q started "$report"
check "the report holds one final record, the 'started' line replaced" $?
rm -f "$report"

# Scale-out and execution budgets, on a checker that has them (the others
# must refuse them by name).
if "$exe" --model "$holds" --shard 1/1 >/dev/null 2>&1; then
  whole=$("$exe" --model "$holds" --report /dev/null | sed -n 's/.*proved — full search, \([0-9,]*\) executions.*/\1/p' | tr -d ,)
  dir=$(mktemp -d)
  for n in 1 3; do
    files=()
    for ((i = 1; i <= n; i++)); do
      "$exe" --model "$holds" --shard "$i/$n" --report "$dir/s$i-$n.jsonl" >/dev/null
      files+=("$dir/s$i-$n.jsonl")
    done
    out=$("$exe" --merge "${files[@]}"); rc=$?
    sum=$(printf '%s\n' "$out" | sed -n 's/.*proved — full search over [0-9]* shards, \([0-9,]*\) executions.*/\1/p' | tr -d ,)
    [ $rc -eq 0 ] && [ -n "$whole" ] && [ "$sum" = "$whole" ]
    check "$n shard(s) of $holds merge to one proof with the unsharded count ($sum = $whole)" $?
  done
  out=$("$exe" --merge "$dir/s1-3.jsonl" "$dir/s3-3.jsonl"); rc=$?
  [ $rc -eq 1 ] && [[ $out == *"only 2 of 3 shards reported"* ]]
  check "a merge missing a shard fails and says which count is missing" $?
  rm -rf "$dir"
  out=$(INTERLEAVE_MODEL_BUDGET_EXECUTIONS=2 "$exe" --model "$holds"); rc=$?
  [ $rc -eq 0 ] && [[ $out == *"bounded by budget — 2 executions"* ]] && [[ $out == *"execution budget of 2"* ]]
  check "an execution budget says 'bounded by budget, N executions', the same on every machine" $?
else
  err=$("$exe" --model "$holds" --shard 1/2 2>&1 >/dev/null); rc=$?
  [ $rc -eq 2 ] && [[ $err == *"cannot split its search"* ]]
  check "a checker that cannot shard refuses --shard by name: $err" $?
fi

exit $fail
