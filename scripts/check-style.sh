#!/bin/sh
# The style checks CI runs as tests (label "style", tests/CMakeLists.txt):
#   check-style.sh format SOURCE_DIR          clang-format: no file differs
#   check-style.sh tidy SOURCE_DIR BUILD_DIR  clang-tidy on src/: no finding
# Each prints what is wrong and exits non-zero; a missing tool is a failure
# that names its Debian package, never a silent pass.
set -eu

mode=${1:?usage: check-style.sh format|tidy SOURCE_DIR [BUILD_DIR]}
source_dir=${2:?usage: check-style.sh format|tidy SOURCE_DIR [BUILD_DIR]}
cd "$source_dir"

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "check-style.sh: $1 not found (Debian package $2; scripts/install-deps.sh installs it)" >&2
    exit 1
  }
}

case "$mode" in
  format)
    need clang-format clang-format
    # .bpf.c programs keep vmlinux.h first, which clang-format would reorder.
    find src tests bench \( -name '*.cpp' -o -name '*.h' \) -print |
      sort | xargs clang-format --dry-run -Werror
    ;;
  tidy)
    build_dir=${3:?usage: check-style.sh tidy SOURCE_DIR BUILD_DIR}
    need clang-tidy clang-tidy
    need run-clang-tidy clang-tidy
    [ -f "$build_dir/compile_commands.json" ] || {
      echo "check-style.sh: no $build_dir/compile_commands.json (configure with CMake first)" >&2
      exit 1
    }
    # Every translation unit of src/, checked by .clang-tidy (warnings are
    # errors). The BPF readers include generated skeletons: built first.
    run-clang-tidy -quiet -p "$build_dir" -j "$(nproc)" "$(pwd)/src/" >"$build_dir/clang-tidy.log" 2>&1 || {
      grep -E "(warning|error):" "$build_dir/clang-tidy.log" | sort -u | head -50
      echo "check-style.sh: clang-tidy findings above (full log: $build_dir/clang-tidy.log)" >&2
      exit 1
    }
    ;;
  *)
    echo "check-style.sh: unknown mode '$mode' (format or tidy)" >&2
    exit 2
    ;;
esac
