#!/usr/bin/env bash
# Regenerates the committed Swift code for proto/*.proto, then the committed
# codecs of the function runtimes (runtimes/python/faasten/_wire,
# runtimes/node/faasten/_wire).
#
# Needs protoc (apt-get install protobuf-compiler) and protoc-gen-swift built from
# swift-protobuf at the version Package.swift uses:
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf &&
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# then set PROTOC_GEN_SWIFT to the built binary (.build/release/protoc-gen-swift).
#
# The Python and JavaScript steps need /usr/bin/python3 with google.protobuf at
# generation time only (apt-get install python3-protobuf); the plugins are
# scripts/protoc-gen-faasten-python (output: standard library only) and
# scripts/protoc-gen-faasten-js (output: schema tables for the hand-written
# runtimes/node/faasten/_wire/protobuf.mjs; no npm package).
set -euo pipefail
cd "$(dirname "$0")/.."

plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
if [ -z "$plugin" ] || [ ! -x "$plugin" ]; then
  echo "protoc-gen-swift not found: set PROTOC_GEN_SWIFT (see the comment at the top of $0)" >&2
  exit 2
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 2; }

protoc --plugin=protoc-gen-swift="$plugin" -I proto \
  --swift_opt=Visibility=Public \
  --swift_out=Sources/Labels/Encoding proto/labels.proto
echo "generated Sources/Labels/Encoding/labels.pb.swift"
protoc --plugin=protoc-gen-swift="$plugin" -I proto \
  --swift_opt=Visibility=Public \
  --swift_out=Sources/CloudCalls/Generated proto/cloudcalls.proto
echo "generated Sources/CloudCalls/Generated/cloudcalls.pb.swift"

protoc --plugin=protoc-gen-faastenpy=scripts/protoc-gen-faasten-python \
  --faastenpy_out=runtimes/python/faasten/_wire -I proto proto/cloudcalls.proto
echo "generated runtimes/python/faasten/_wire/cloudcalls.py"

protoc --plugin=protoc-gen-faastenjs=scripts/protoc-gen-faasten-js \
  --faastenjs_out=runtimes/node/faasten/_wire -I proto proto/cloudcalls.proto
echo "generated runtimes/node/faasten/_wire/cloudcalls.mjs"
