# ci/common.sh — sourced by ci/verify, ci/test and ci/bench (from the tree's
# root): configuring and building a preset the same way everywhere.

jobs=$(nproc 2>/dev/null || echo 2)

# configure <preset>: configures build/<preset> once. A build tree configured
# for another checkout (this one moved, or a CI cache restored elsewhere)
# would run that tree's binaries and read its sources: it is removed and
# configured afresh here. Returns non-zero if configuring fails.
configure() {
  local preset=$1 cache="build/$1/CMakeCache.txt" home here
  if [ -f "$cache" ]; then
    home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
    here=$(pwd -P)
    if [ "$(cd "$home" 2>/dev/null && pwd -P)" != "$here" ]; then
      echo "build/$preset was configured for ${home:-an unknown tree}, not $here: configuring it afresh"
      rm -rf "build/$preset"
    fi
  fi
  [ -f "$cache" ] || cmake --preset "$preset" >/dev/null
}

# build <preset> [targets...]: configures if needed, then builds the targets
# (all of them if none are named).
build() {
  local preset=$1
  shift
  configure "$preset" || return 1
  cmake --build --preset "$preset" -j "$jobs" ${1:+--target "$@"}
}
