#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are not installed yet.
#
# Idempotent and quiet: when everything is installed it only runs one dpkg-query (well under a
# second) and prints nothing. Otherwise it runs `apt-get update` and installs just the missing
# packages, printing one line about what it does (apt's own output goes to a log that is shown
# only if apt fails). Runs as root, or through sudo when not root and sudo exists.
#
# Environment:
#   RIVULET_SKIP_SETUP=1   do nothing (for machines managed some other way)
set -euo pipefail

[[ "${RIVULET_SKIP_SETUP:-0}" == 1 ]] && exit 0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="$here/packages.txt"

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list")

# Names of wanted packages that dpkg knows as fully installed. Unknown names print an error
# on stderr (discarded) and are simply absent from the output.
declare -A installed=()
while IFS=$'\t' read -r name status; do
  [[ "$status" == "install ok installed" ]] && installed["$name"]=1
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for pkg in "${wanted[@]}"; do
  [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

as_root=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo --non-interactive)
  else
    echo "setup.sh: missing packages: ${missing[*]}" >&2
    echo "setup.sh: not root and no sudo; install them as root and run again." >&2
    exit 1
  fi
fi

echo "setup.sh: installing ${#missing[@]} package(s): ${missing[*]}" >&2
log="$(mktemp "${TMPDIR:-/tmp}/rivulet-setup.XXXXXX.log")"
apt_opts=(-q -o DPkg::Lock::Timeout=300)
run_apt() {
  if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" "$@" \
      >>"$log" 2>&1 </dev/null; then
    echo "setup.sh: 'apt-get $*' failed; its output:" >&2
    cat "$log" >&2
    exit 1
  fi
}
run_apt update
run_apt install -y --no-install-recommends "${missing[@]}"
rm -f "$log"
echo "setup.sh: done" >&2
