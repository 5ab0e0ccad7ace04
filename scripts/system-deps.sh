#!/bin/sh
# Installs the Debian packages the tests drive for real: the AWS CLI v2, a Secret
# Service (gnome-keyring on a private D-Bus), Xvfb + xdotool + trayer for the tray and
# the dialog, ImageMagick for screenshots. Does nothing when they are all present.
set -eu
PACKAGES="awscli gnome-keyring dbus-x11 dbus-daemon libsecret-tools xvfb xdotool trayer xclip \
imagemagick x11-utils desktop-file-utils libgirepository1.0-dev libcairo2-dev pkg-config \
gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm, for the JavaScript SDK tests (tests/js): any install of them will do.
{ command -v node && command -v npm; } >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
# --optional (make demo): do what can be done without a password, else say what is missing.
optional=false
[ "${1:-}" = "--optional" ] && optional=true
give_up() {
    echo "system-deps: $1; install these by hand:$missing" >&2
    if $optional; then exit 0; else exit 1; fi
}
command -v apt-get >/dev/null 2>&1 || give_up "not a Debian/Ubuntu system"
if [ "$(id -u)" -ne 0 ]; then
    if $optional && ! sudo -n true 2>/dev/null; then
        give_up "no root (run 'sudo sh scripts/system-deps.sh' for the tray)"
    fi
    SUDO=sudo
else
    SUDO=
fi
echo "system-deps: installing$missing"
$SUDO apt-get update -qq || give_up "apt-get update failed"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || give_up "apt-get install failed"
