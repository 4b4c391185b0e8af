#!/bin/sh
# SPDX-License-Identifier: MIT
# dtb-from-log.sh LOG OUT.dtb: rebuild the blob printed by apps/dtb-dump
# (works on raw guest output and on "(XEN) DOM1: dtb: ..." transcripts).
set -eu
sed -n 's/.*dtb: \([0-9a-f]*\)\r\{0,1\}$/\1/p' "$1" | tr -d '\n' | xxd -r -p > "$2"
