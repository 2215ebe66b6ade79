# Sourced by the other scripts: run from the project root with uv on PATH.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"
  PATH="$(dirname "$(python3 -c 'import uv; print(uv.find_uv_bin())')"):$PATH"
  export PATH
fi
