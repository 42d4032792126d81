#!/usr/bin/env bash
# stages.sh: prints the workbook's stages ("1 2 3 4"), read from the one list of them: `let stages =
# [...]` in Package.swift. The Makefile and the other scripts ask this script, so a new stage is one
# number in Package.swift and nothing else. (The list stays in Package.swift: SwiftPM caches the
# evaluated manifest, so a list in another file it read would go stale.)
set -euo pipefail
cd "$(dirname "$0")/.."
list=$(sed -n 's/^let stages = \[\(.*\)\]$/\1/p' Package.swift | tr -d ' ' | tr ',' ' ')
if [[ -z $list ]]; then
    echo "stages.sh: no 'let stages = [...]' line in Package.swift" >&2
    exit 1
fi
echo "$list"
