#!/bin/sh
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   bootstrap.sh - generates ./configure from configure.ac (run once after a clone)
set -e
cd "$(dirname "$0")"
autoreconf --install --force >/dev/null 2>&1 || autoreconf --install --force
