#!/bin/sh
# Refreshes the vendored front-end libraries from the npm registry at the pinned versions.
# Run from internal/web with `go generate`; commit the files it writes. Needs npm.
set -eu
HTMX=2.0.11
UPLOT=1.6.32
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@$HTMX" "uplot@$UPLOT" >/dev/null)
tar -xzf "$tmp/htmx.org-$HTMX.tgz" -C "$tmp" package/dist/htmx.min.js
cp "$tmp/package/dist/htmx.min.js" htmx.min.js
rm -rf "$tmp/package"
tar -xzf "$tmp/uplot-$UPLOT.tgz" -C "$tmp" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css
cp "$tmp/package/dist/uPlot.iife.min.js" uPlot.iife.min.js
cp "$tmp/package/dist/uPlot.min.css" uPlot.min.css
echo "vendored htmx.org $HTMX and uplot $UPLOT"
