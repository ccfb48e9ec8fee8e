#!/usr/bin/env sh
# Installs Basalt: the release binary beside this script when there is one (an unpacked
# release archive), else builds it with cargo. Optionally writes a systemd unit.
#
#   ./install.sh [--systemd] [--data DIR]
#
# Prefix: $BASALT_PREFIX, else /usr/local for root and ~/.local for a user. The unit
# goes to $BASALT_UNIT_DIR, else /etc/systemd/system (root) or ~/.config/systemd/user.
set -eu
cd "$(dirname "$0")"

systemd=no
data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --systemd) systemd=yes ;;
    --data) shift; data="${1:?--data needs a directory}" ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" = 0 ]; then default_prefix=/usr/local; else default_prefix="$HOME/.local"; fi
prefix="${BASALT_PREFIX:-$default_prefix}"

if [ -x ./basalt ] && [ -f ./basalt ]; then
  echo "Installing the release binary beside this script…"
  binary=./basalt
else
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install.sh: no release binary here, and cargo is needed to build Basalt (install Rust with your package manager or rustup)" >&2
    exit 1
  fi
  echo "Building Basalt (release)…"
  cargo build --release -p basalt
  binary=target/release/basalt
fi
mkdir -p "$prefix/bin"
install -m 0755 "$binary" "$prefix/bin/basalt"
"$prefix/bin/basalt" --version >/dev/null
echo "Installed: $prefix/bin/basalt"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "Note: $prefix/bin is not on your PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac

if [ "$systemd" = yes ]; then
  if [ "$(id -u)" = 0 ]; then
    unit_dir="${BASALT_UNIT_DIR:-/etc/systemd/system}"
    if [ -z "$data" ]; then
      data=/var/lib/basalt
      user_line="DynamicUser=yes
StateDirectory=basalt"
    else
      # A data directory of your choosing: the service runs as root; add User= to taste.
      user_line=""
      mkdir -p "$data"
    fi
    wanted=multi-user.target
    ctl="systemctl"
  else
    data="${data:-$HOME/.local/share/basalt}"
    unit_dir="${BASALT_UNIT_DIR:-$HOME/.config/systemd/user}"
    user_line=""
    wanted=default.target
    ctl="systemctl --user"
  fi
  mkdir -p "$unit_dir"
  cat > "$unit_dir/basalt.service" <<UNIT
[Unit]
Description=Basalt backend
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=$prefix/bin/basalt serve --dir $data
$user_line
Restart=on-failure
# SIGTERM drains in-flight requests and flushes the store.
KillSignal=SIGTERM
TimeoutStopSec=30
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$data

[Install]
WantedBy=$wanted
UNIT
  [ "$(id -u)" = 0 ] || mkdir -p "$data"
  echo "Wrote $unit_dir/basalt.service (data in $data)"
fi

echo
echo "Next steps:"
if [ "$systemd" = yes ]; then
  echo "  $ctl daemon-reload && $ctl enable --now basalt"
  echo "  basalt superuser upsert you@example.com 'a-long-password' --dir $data   # with the service stopped, or use the install link it logs"
else
  echo "  basalt superuser upsert you@example.com 'a-long-password'"
  echo "  basalt serve            # API at http://127.0.0.1:8090/api/, dashboard at /_/, data in ./basalt_data"
fi
echo "  basalt config check     # see the configuration; docs/operations.md has the reference"
