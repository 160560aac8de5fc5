#!/usr/bin/env bash
# Regenerates every golden vector with protoc (Debian's protobuf-compiler), from the project root:
#
#   spec/golden/regenerate.sh
#
# Each <name>.txtpb is a message in protobuf text format whose "# proto-message:" line names its
# type in proto/chat.proto; protoc encodes it into <name>.bin, the bare message bytes, no length prefix.
set -euo pipefail
trap 'rm -f spec/golden/*.bin.tmp' EXIT

count=0
for source in spec/golden/*.txtpb; do
  type=$(sed -n 's/^# proto-message: *//p' "$source")
  if [[ -z $type ]]; then
    echo "$source: no '# proto-message: <Type>' line" >&2
    exit 1
  fi
  golden=${source%.txtpb}.bin
  protoc --proto_path=proto --encode="$type" chat.proto <"$source" >"$golden.tmp"
  mv "$golden.tmp" "$golden"
  count=$((count + 1))
done
echo "regenerated $count golden vectors with $(protoc --version)"
