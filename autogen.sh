#!/bin/sh
# Regenerate the build system (configure, Makefile.in, aux scripts).
set -e
cd "$(dirname "$0")"
exec autoreconf -fi
