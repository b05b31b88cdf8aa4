#!/usr/bin/env bash
# A throwaway test CA for the TLS brokers of scripts/secure-brokers.sh, written to .run/tls/
# (git-ignored). Never use these files for anything but local tests.
#
#   ca.pem / ca.key            the test CA (10 years)
#   server.pem / server.key    server certificate for 127.0.0.1, ::1 and localhost
#   server-chain.pem           server certificate followed by the CA
#   server.p12                 the server key and chain as PKCS12 (password in keystore.pass)
#   client.pem / client.key    a client certificate (CN=mqctl-test-client)
#   other-ca.pem               an unrelated CA: a client trusting it must refuse the servers
#
# Idempotent: existing files are kept while they are valid for at least a day and match the
# CA; pass --force to regenerate everything. Usage: scripts/gen-test-ca.sh [--force]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${MQCTL_TLS_DIR:-$ROOT/.run/tls}
DAYS=3650

die() {
  printf 'gen-test-ca.sh: %s\n' "$*" >&2
  exit 1
}

command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"

# one generator at a time (secure-brokers.sh and cluster.sh may run in parallel)
mkdir -p "$DIR"
exec 8>"$DIR/.lock"
flock -w 120 8 || die "another gen-test-ca.sh holds $DIR/.lock"

still_valid() {
  # still_valid CERT: exists, valid for one more day, signed by our CA
  [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1 &&
    { [ "$1" = "$DIR/ca.pem" ] || openssl verify -CAfile "$DIR/ca.pem" "$1" >/dev/null 2>&1; }
}

complete() {
  local f
  for f in ca.pem ca.key server.pem server.key server-chain.pem server.p12 keystore.pass \
    client.pem client.key other-ca.pem; do
    [ -s "$DIR/$f" ] || return 1
  done
  still_valid "$DIR/ca.pem" && still_valid "$DIR/server.pem" && still_valid "$DIR/client.pem"
}

if [ "${1:-}" != --force ] && complete; then
  printf 'tls: test CA and certificates already in %s\n' "${DIR#"$ROOT"/}"
  exit 0
fi

chmod 755 "$DIR"
tmp=$(mktemp -d "$DIR/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/openssl.log

run() { "$@" >>"$log" 2>&1 || {
  cat "$log" >&2
  die "failed: $*"
}; }

# The CA
run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -subj "/O=mqctl tests/CN=mqctl test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# leaf NAME SUBJECT EXTFILE: key + certificate signed by the CA
leaf() {
  run openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$tmp/$1.key" -out "$tmp/$1.csr" -subj "$2"
  run openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days "$DAYS" -sha256 -out "$tmp/$1.pem" -extfile "$3"
  rm -f "$tmp/$1.csr"
}

cat >"$tmp/server.ext" <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
EOF
cat >"$tmp/client.ext" <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
leaf server "/O=mqctl tests/CN=localhost" "$tmp/server.ext"
leaf client "/O=mqctl tests/CN=mqctl-test-client" "$tmp/client.ext"
cat "$tmp/server.pem" "$tmp/ca.pem" >"$tmp/server-chain.pem"

# PKCS12 keystore for Kafka (the password is a test value, not a secret)
printf 'mqctl-test-keystore\n' >"$tmp/keystore.pass"
run openssl pkcs12 -export -in "$tmp/server-chain.pem" -inkey "$tmp/server.key" \
  -name server -out "$tmp/server.p12" -passout "pass:mqctl-test-keystore"

# An unrelated CA, for "wrong CA" tests
run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$DAYS" \
  -keyout "$tmp/other-ca.key" -out "$tmp/other-ca.pem" -subj "/O=somebody else/CN=unrelated CA"
rm -f "$tmp/other-ca.key" "$tmp/ca.srl" "$tmp"/*.ext "$log"

# Brokers run as other users (rabbitmq): certificates readable, keys too (test keys only).
chmod 644 "$tmp"/*
for f in "$tmp"/*; do mv -f "$f" "$DIR/"; done
printf 'tls: test CA and certificates written to %s\n' "${DIR#"$ROOT"/}"
