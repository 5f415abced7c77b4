# The till and admin listeners speak TLS natively: with a certificate made here (a self-signed
# one, made at run time: no key is ever in git), a till reaches the API over HTTPS with
# curl --cacert, off loopback; plain HTTP to that port gets no answer, a client that does not
# trust the certificate stops, and an unreadable certificate or key is a file:line error.
source "$(dirname "$0")/lib.sh"

code() { local u=$1; shift; curl -s --noproxy '*' --max-time 10 -o "$T_TMP/body" -w '%{http_code}' "$@" "$u" || true; }
( umask 077
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" -days 1 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1 ) ||
	{ echo "openssl could not make a certificate" >&2; exit 1; }

TILL=$(free_port) ADMIN=$(free_port)
own_up tls " listen till 0.0.0.0 $TILL" " tls till cert $T_TMP/cert.pem key $T_TMP/key.pem" \
	" listen admin 0.0.0.0 $ADMIN" " tls admin cert $T_TMP/cert.pem key $T_TMP/key.pem" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
pass "spazad starts with till and admin listeners off loopback over TLS"
check_has "the till listener is logged as HTTPS" "till listener on https://0.0.0.0:$TILL" "$(cat "$OWN_LOG")"
check_lacks "no insecure warning for listeners with TLS" "WARNING" "$(cat "$OWN_LOG")"

check_eq "the till API answers over HTTPS with curl --cacert (unsigned: 401)" "401" \
	"$(code "https://127.0.0.1:$TILL/api/v1/slips/91234" --cacert "$T_TMP/cert.pem")"
check_match "with the till API's JSON error" '"error": ?"missing_key"' "$(cat "$T_TMP/body")"
check_eq "the till listener's /health over HTTPS" "200|ok" \
	"$(code "https://127.0.0.1:$TILL/health" --cacert "$T_TMP/cert.pem")|$(cat "$T_TMP/body")"
check_match "the admin listener's /health over HTTPS is its JSON" '^200\|\{"status":"ok","database":"up"' \
	"$(code "https://127.0.0.1:$ADMIN/health" --cacert "$T_TMP/cert.pem")|$(cat "$T_TMP/body")"
rc=0; curl -s --noproxy '*' --max-time 10 -o /dev/null "https://127.0.0.1:$TILL/health" || rc=$?
check_eq "a client that does not trust the certificate stops (curl exit 60)" 60 "$rc"
check_eq "plain HTTP to the TLS till listener gets no HTTP answer" "000" "$(code "http://127.0.0.1:$TILL/health")"
check_eq "the daemon still serves HTTPS after that" "200" "$(code "https://127.0.0.1:$TILL/health" --cacert "$T_TMP/cert.pem")"
check_eq "the front stays plain HTTP on loopback" "200" "$(code "$OWN_URL/health")"
cfg=$OWN_CFG
own_down tls

# an unreadable key: a file:line error from spazad -C, and no start
sed -i "s|key $T_TMP/key.pem\$|key $T_TMP/nokey.pem|" "$cfg"
line=$(grep -n "^ tls till " "$cfg" | cut -d: -f1)
rc=0; out=$("$SPAZAD" -C -c "$cfg" 2>&1) || rc=$?
check_match "spazad -C reports an unreadable TLS key as file:line" "^1\|.*$cfg:$line: tls till: cannot read $T_TMP/nokey.pem" "$rc|$out"
