#!/usr/bin/env sh
# Builds the release binary and installs it for the current user.
set -eu
cd "$(dirname "$0")"
prefix="${BASALT_PREFIX:-$HOME/.local}"
if ! command -v cargo >/dev/null 2>&1; then
  echo "install.sh: cargo is needed to build Basalt (install Rust with your package manager or rustup)" >&2
  exit 1
fi
echo "Building Basalt (release)…"
cargo build --release -p basalt
mkdir -p "$prefix/bin"
install -m 0755 target/release/basalt "$prefix/bin/basalt"
echo
echo "Installed: $prefix/bin/basalt"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "Note: $prefix/bin is not on your PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
echo
echo "Next steps:"
echo "  basalt superuser upsert you@example.com 'a-long-password'"
echo "  basalt serve            # API at http://127.0.0.1:8090/api/, data in ./basalt_data"
