# Sourced by scripts that need a pinned Python tool in a cached virtual environment.
# ensure_venv VENV CHECK PKG==VER...: creates VENV and installs the packages unless `VENV/bin/CHECK`
# already succeeds (CHECK is a command line run inside the venv's bin, e.g. "halmos --version | grep 0.3.3").
ensure_venv() {
  local venv=$1 check=$2
  shift 2
  if (cd "$venv/bin" 2>/dev/null && eval "./$check") >/dev/null 2>&1; then
    return 0
  fi
  echo "==> installing $* into $venv"
  python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "$@" ||
    { echo "could not install $* from PyPI" >&2; return 1; }
}
