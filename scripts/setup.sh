#!/usr/bin/env bash
# Shared set-up for the run and test commands: a virtual environment with the pinned packages.
# Sourced, not run: it leaves VENV set for the caller. The caller sets SETUP_PACKAGES=app for the app's packages only
# (requirements.txt: the demo); otherwise the test tools are installed too (requirements-dev.txt includes the app's).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CM_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cm-tracker needs Python 3.11 or newer")'
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when the requirement files changed since the last install of that set; installing the test tools
# installs the app's packages too, so it stamps both sets.
app_hash="$(sha256sum < "$ROOT/requirements.txt" | cut -d' ' -f1)"
dev_hash="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
case "${SETUP_PACKAGES:-dev}" in
  app) file=requirements.txt stamp="$VENV/.cm-requirements-app" want="$app_hash" ;;
  dev) file=requirements-dev.txt stamp="$VENV/.cm-requirements" want="$dev_hash" ;;
  *) echo "SETUP_PACKAGES is app or dev, not '$SETUP_PACKAGES'" >&2; exit 2 ;;
esac
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing the pinned packages ($file)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/$file"
  echo "$want" > "$stamp"
  [ "$file" = requirements.txt ] || echo "$app_hash" > "$VENV/.cm-requirements-app"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
# The portal's translations: compiled .mo files are build output, not kept in git.
pybabel -q compile -d cm_tracker/translations
