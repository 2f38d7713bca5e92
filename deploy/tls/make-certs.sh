#!/bin/sh
# Makes the private CA and the Temporal server's certificates for docker-compose.yml
# (docs/production-security.md, "Certificates"). Writes into secrets/ (ignored by git), or into
# the directory given as the first argument; never into the repository's tracked files.
#
#   deploy/tls/make-certs.sh            # -> secrets/tls_ca_cert, tls_frontend_*, tls_internode_*, tls_web_*
#   deploy/tls/make-certs.sh /some/dir  # the same files in /some/dir
#
# What it makes (ECDSA P-256 keys, SHA-256 signatures):
#   tls_ca_cert, tls_ca_key           the CA (10 years). Keep tls_ca_key offline once the
#                                     certificates are made; no container is given it.
#   tls_frontend_cert, _key           the frontend's server certificate (gRPC 7233, HTTP API 7243),
#                                     names temporal, localhost, 127.0.0.1 (what clients dial);
#                                     TEMPORAL_TLS_SERVER_NAME=temporal in every client.
#   tls_internode_cert, _key          the server roles' certificate between themselves
#                                     (history, matching, worker, internal-frontend): server and
#                                     client use (internode mTLS), name temporal-internode.
#   tls_web_cert, _key                the TLS proxy's certificate for the browser (the UI on
#                                     https://localhost:8443, the codec server on
#                                     https://localhost:8234): names localhost, 127.0.0.1. Your
#                                     browser must trust tls_ca_cert, or use a public certificate.
# An existing CA is reused (certificates already handed out stay valid); existing leaf
# certificates are replaced. Run it again before they expire (825 days).
set -eu

out="${1:-$(cd "$(dirname "$0")/../.." && pwd)/secrets}"
days_ca=3650
days_leaf=825

command -v openssl >/dev/null 2>&1 || { echo "make-certs: openssl is not installed; install it (Debian: apt-get install openssl) and run this again" >&2; exit 1; }
umask 077
mkdir -p "$out"
chmod 700 "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -s "$out/tls_ca_cert" ] && [ -s "$out/tls_ca_key" ]; then
  echo "CA: reusing $out/tls_ca_cert"
else
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key"
  openssl req -x509 -new -sha256 -key "$work/ca.key" -days "$days_ca" \
    -subj "/O=orderflow/CN=orderflow Temporal CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$work/ca.pem"
  mv "$work/ca.key" "$out/tls_ca_key"
  mv "$work/ca.pem" "$out/tls_ca_cert"
  echo "CA: created $out/tls_ca_cert"
fi

# leaf NAME CN SUBJECT_ALT_NAMES EXTENDED_KEY_USAGE
leaf() {
  name="$1" cn="$2" san="$3" eku="$4"
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/$name.key"
  openssl req -new -sha256 -key "$work/$name.key" -subj "/O=orderflow/CN=$cn" -out "$work/$name.csr"
  cat > "$work/$name.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$eku
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
  openssl x509 -req -sha256 -in "$work/$name.csr" -CA "$out/tls_ca_cert" -CAkey "$out/tls_ca_key" \
    -CAcreateserial -CAserial "$work/ca.srl" -days "$days_leaf" -extfile "$work/$name.ext" -out "$work/$name.pem" 2>/dev/null
  openssl verify -CAfile "$out/tls_ca_cert" "$work/$name.pem" >/dev/null
  mv "$work/$name.key" "$out/tls_${name}_key"
  mv "$work/$name.pem" "$out/tls_${name}_cert"
  echo "$name: created $out/tls_${name}_cert ($san)"
}

leaf frontend temporal "DNS:temporal,DNS:localhost,IP:127.0.0.1" serverAuth
leaf internode temporal-internode "DNS:temporal-internode" "serverAuth,clientAuth"
leaf web localhost "DNS:localhost,IP:127.0.0.1" serverAuth

# The containers run as their images' own users (temporal, node, the UI's): they must be able to
# read the files Docker bind-mounts as secrets. The directory itself stays private (700).
chmod 444 "$out"/tls_ca_cert "$out"/tls_frontend_cert "$out"/tls_frontend_key "$out"/tls_internode_cert "$out"/tls_internode_key \
  "$out"/tls_web_cert "$out"/tls_web_key
chmod 400 "$out/tls_ca_key"
