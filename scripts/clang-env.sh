# Sourced by the kernel build scripts: picks the C compiler (CLANG, else clang, else clang-14), puts
# its wasm-ld on PATH (Debian's lld-14 installs it beside clang-14), and makes a temp dir removed
# on exit. Debian: apt-get install -y clang-14 lld-14 (.ci/run does).
if [ -z "${CLANG:-}" ]; then
  if command -v clang >/dev/null; then CLANG=clang; elif command -v clang-14 >/dev/null; then CLANG=clang-14; else
    echo "no clang found: apt-get install -y clang-14 lld-14, or set CLANG" >&2; exit 1; fi
fi
PATH="$(dirname "$(readlink -f "$(command -v "$CLANG")")"):$PATH"
OBJDUMP=$(command -v llvm-objdump || command -v llvm-objdump-14 || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
