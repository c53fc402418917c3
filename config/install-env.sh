#!/bin/sh
# SPDX-License-Identifier: MIT
#
# config/install-env.sh CONFDIR: run by `meson install` (meson.add_install_script). Copies
# the units' environment files, dataplane.env and controlplane.env, from their .example
# beside them when they do not exist yet, and leaves existing ones alone: they are the
# administrator's. Honours DESTDIR (meson's --destdir) through MESON_INSTALL_DESTDIR_PREFIX.
set -eu
confdir=$1
destdir=
if [ -n "${MESON_INSTALL_DESTDIR_PREFIX:-}" ] && [ -n "${MESON_INSTALL_PREFIX:-}" ]; then
	destdir=${MESON_INSTALL_DESTDIR_PREFIX%"$MESON_INSTALL_PREFIX"}
fi
dir=$destdir$confdir
for f in dataplane.env controlplane.env; do
	if [ -e "$dir/$f" ]; then
		echo "Keeping $dir/$f (exists)"
	elif [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
		echo "Would install $dir/$f from $f.example"
	else
		cp "$dir/$f.example" "$dir/$f"
		chmod 0644 "$dir/$f"
		echo "Installing $dir/$f (from $f.example)"
	fi
done
