#!/usr/bin/env bash
# scripts/tls.sh conf STATE_DIR TLS_PORT [BIND]
#
# Prints the lighttpd configuration that serves https and wss on BIND:TLS_PORT (BIND
# defaults to 127.0.0.1) with mod_openssl, for `make run TLS=1` (scripts/run.sh) and
# the tests, which append it to the generated lighttpd.conf. The same site answers
# there as on the plain port: www/, /api, /ws (WebSocket upgrades included).
#
# The certificate is TLS_CERT/TLS_KEY when both are set; otherwise a self-signed one
# for localhost, 127.0.0.1 and ::1 is made on first use under STATE_DIR/tls/ (kept for
# later runs: trust it once with curl --cacert STATE_DIR/tls/cert.pem or in the browser).
# Strict-Transport-Security is sent for other host names only: never for localhost,
# where a browser would then refuse the plain port too. HTTP/1.1 only (no h2).
set -euo pipefail
[ $# -ge 3 ] && [ "$1" = conf ] || { sed -n '2,13p' "$0"; exit 2; }
state=$2 port=$3 bind=${4:-127.0.0.1}

cert=${TLS_CERT:-} key=${TLS_KEY:-}
if [ -z "$cert" ] || [ -z "$key" ]; then
    cert=$state/tls/cert.pem key=$state/tls/key.pem
    if [ ! -s "$cert" ] || [ ! -s "$key" ]; then
        mkdir -p "$state/tls"
        chmod 700 "$state/tls"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
            -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
            -keyout "$key.tmp" -out "$cert.tmp" 2>/dev/null
        mv "$key.tmp" "$key"
        mv "$cert.tmp" "$cert"
        echo "tls: made a self-signed certificate for localhost: $cert" >&2
    fi
fi
[ -r "$cert" ] && [ -r "$key" ] || { echo "tls: cannot read $cert or $key" >&2; exit 1; }
case $bind in *:*) sock="[$bind]:$port" ;; *) sock="$bind:$port" ;; esac

cat <<EOT
server.modules += ( "mod_openssl" )
# HTTP/1.1 only (lighttpd decides ALPN per server, not per socket): WebSocket upgrades
# then work over https exactly as on the plain port.
server.feature-flags += ( "server.h2proto" => "disable" )
\$SERVER["socket"] == "$sock" {
  ssl.engine  = "enable"
  ssl.pemfile = "$cert"
  ssl.privkey = "$key"
  \$HTTP["host"] !~ "^(localhost|127\\.0\\.0\\.1|\\[::1\\])(:[0-9]+)?\$" {
    setenv.add-response-header = ( "Strict-Transport-Security" => "max-age=31536000" )
  }
}
EOT
