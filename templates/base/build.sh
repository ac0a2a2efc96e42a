#!/bin/sh
# Builds the base image of served models as an OCI image layout, without a container
# daemon: Debian bookworm (debootstrap --variant=minbase) with python3 and
# ca-certificates, a user 65532 ("nonroot"), one layer made by umoci.
#
# Usage: templates/base/build.sh LAYOUT [TAG]     (as root: debootstrap and chroot need it)
#   LAYOUT  the layout folder to create (replaced if present), e.g. workspace/base/oci
#   TAG     its org.opencontainers.image.ref.name (default: bookworm)
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# The layout is built in a temporary folder beside LAYOUT and renamed into place at the
# end, so an interrupted build leaves no half layout behind.
set -eu

layout=${1:?usage: templates/base/build.sh LAYOUT [TAG]}
tag=${2:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

for tool in debootstrap umoci chroot; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "build.sh: $tool is missing; install it (apt-get install -y debootstrap umoci)" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "build.sh: debootstrap needs root; run as root (or with sudo)" >&2; exit 3; }

parent=$(dirname "$layout")
mkdir -p "$parent"
work=$(mktemp -d "$parent/.base-build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "base image: debootstrap bookworm (minbase, python3, ca-certificates) from $mirror"
debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$work/rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# The user the image runs as (distroless's "nonroot" numbers).
chroot "$work/rootfs" groupadd --gid 65532 nonroot
chroot "$work/rootfs" useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin nonroot

# What a running image never needs: package lists, downloaded packages, logs, docs.
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin \
  "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/log/"* \
  "$work/rootfs/usr/share/doc/"* "$work/rootfs/usr/share/man/"* "$work/rootfs/usr/share/info/"*

echo "base image: OCI layout with umoci"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack --image "$work/oci:$tag" "$work/bundle" >/dev/null
rmdir "$work/bundle/rootfs"
mv "$work/rootfs" "$work/bundle/rootfs"
umoci repack --image "$work/oci:$tag" "$work/bundle"
umoci config --image "$work/oci:$tag" --architecture amd64 --os linux \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env LANG=C.UTF-8 \
  --config.user 65532:65532 --config.workingdir / --config.cmd python3 \
  --history.created_by "templates/base/build.sh (debootstrap bookworm minbase python3 ca-certificates)"
umoci gc --layout "$work/oci"

rm -rf "$layout.old"
[ ! -e "$layout" ] || mv "$layout" "$layout.old"
mv "$work/oci" "$layout"
rm -rf "$layout.old"
echo "base image: $layout:$tag"
