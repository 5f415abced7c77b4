# Secrets stay secret: a password in the configuration is refused (starred out of the error),
# the VTY stays on loopback unless the secrets file has a vty-token, which it then asks for;
# and no secret, PIN or token shows in the log (at debug level), `show running-config` or the
# file `write file` writes, while the daemon pays, signs and talks to Kannel with them.
source "$(dirname "$0")/lib.sh"
T=secrets

SENDSMS_PW=it-sendsms-pw-$RANDOM$RANDOM
DB_PW=it-database-pw-$RANDOM$RANDOM
VTY_TOKEN=it-vty-token-$RANDOM$RANDOM
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# check_cfg CFG: "RC|OUTPUT" of spazad -C -c CFG (stdout and stderr)
check_cfg() { local out rc=0; out=$("$SPAZAD" -C -c "$1" 2>&1) || rc=$?; printf '%s|%s' "$rc" "$out"; }

# ---- secrets in the configuration are refused, and the refusal does not print them
own_cfg "$T_TMP/base.cfg" 1 1
cp "$T_TMP/base.cfg" "$T_TMP/sendsms.cfg"
echo " kannel sendsms password $SENDSMS_PW" >> "$T_TMP/sendsms.cfg"
r=$(check_cfg "$T_TMP/sendsms.cfg")
check_match "$T: a sendsms password in the configuration is refused, at its line, pointing to the secrets file" \
	"^1\|.*kannel-sendsms-password.*secrets file.*sendsms.cfg:$(wc -l < "$T_TMP/sendsms.cfg"):" "$r"
check_lacks "$T: ... and the refusal does not print it" "$SENDSMS_PW" "$r"

cp "$T_TMP/base.cfg" "$T_TMP/dbpw.cfg"
echo " database host=127.0.0.1 dbname=spaza password=$DB_PW" >> "$T_TMP/dbpw.cfg"
r=$(check_cfg "$T_TMP/dbpw.cfg")
check_match "$T: a database password in the configuration is refused, pointing to the secrets file" \
	"^1\|.*database-password.*secrets file" "$r"
check_lacks "$T: ... and the refusal does not print it" "$DB_PW" "$r"

{ echo "password $VTY_TOKEN"; cat "$T_TMP/base.cfg"; } > "$T_TMP/vtypw.cfg"
r=$(check_cfg "$T_TMP/vtypw.cfg")
check_match "$T: a VTY password in the configuration is refused, pointing to vty-token" "^1\|.*vty-token" "$r"
check_lacks "$T: ... and the refusal does not print it" "$VTY_TOKEN" "$r"

sed 's/^ bind 127\.0\.0\.1 / bind 0.0.0.0 /' "$T_TMP/base.cfg" > "$T_TMP/open.cfg"
r=$(check_cfg "$T_TMP/open.cfg")
check_match "$T: a VTY bound off loopback without a vty-token is refused" \
	"^1\|.*line vty: bind 0\.0\.0\.0 is not a loopback address.*vty-token" "$r"

chmod 644 "$T_TMP/secrets"
r=$(check_cfg "$T_TMP/base.cfg")
check_match "$T: a secrets file others may read is refused" "^1\|.*group or others may access it.*chmod 600" "$r"
chmod 600 "$T_TMP/secrets"

# ---- a daemon with its secrets where they belong: the VTY open to the network behind the token
spaza_secret_set "$T_TMP/secrets" kannel-sendsms-password "$SENDSMS_PW"
spaza_secret_set "$T_TMP/secrets" database-password "$DB_PW"
spaza_secret_set "$T_TMP/secrets" vty-token "$VTY_TOKEN"
HTTP=$(free_port) VTYP=$(free_port) SINK=$(free_port)
OWN_CFG=$T_TMP/own.cfg OWN_LOG=$(dirname "${SPAZA_CFG:-$T_TMP/x}")/it-$T.log OWN_PIDF=$T_TMP/own.pid
own_cfg "$OWN_CFG" "$HTTP" "$VTYP" " kannel sendsms url http://127.0.0.1:$SINK/cgi-bin/sendsms username spaza" \
	" kannel sendsms from 31555" " sms retry min 1 max 2" " sms outbox poll 1 in-flight 4"
sed -i 's/^ bind 127\.0\.0\.1 / bind 0.0.0.0 /; s/logging level set-all notice/logging level set-all debug/' "$OWN_CFG"
r=$(check_cfg "$OWN_CFG")
check_match "$T: with a vty-token the VTY may listen off loopback" '^0\|configuration OK' "$r"
"$SPAZAD" -c "$OWN_CFG" >"$OWN_LOG" 2>&1 &
OWN_PID=$!
echo "$OWN_PID" > "$OWN_PIDF"
at_exit "spazad_down '$OWN_PIDF'"
OWN_URL=http://127.0.0.1:$HTTP OWN_TILL_URL=http://127.0.0.1:$(cfg_port "$OWN_CFG" till)
wait_for 30 curl -sf --noproxy '*' -o /dev/null "$OWN_URL/health" || { fail "$T: own spazad starts (log: $OWN_LOG)"; exit 0; }

# raw_vty PASSWORD CMD...: log in over telnet and run the commands; prints all it read
raw_vty() {
	local pw=$1 c out=""; shift
	exec 8<>"/dev/tcp/127.0.0.1/$VTYP" || return 1
	{ sleep 0.5; printf '%s\r\n' "$pw"; sleep 0.5; for c in "$@"; do printf '%s\r\n' "$c"; sleep 0.3; done
	  printf 'exit\r\n'; sleep 0.3; } >&8
	out=$(timeout 5 cat <&8 | LC_ALL=C tr -d '\r\000' | LC_ALL=C sed 's/\xff[\xfb-\xfe].//g; s/\xff.//g')
	exec 8>&- 8<&-
	printf '%s' "$out"
}
out=$(raw_vty "wrong-token-$RANDOM" "show stats")
check_has "$T: the VTY asks for the token" "Password:" "$out"
check_lacks "$T: a wrong token gets no prompt" "spazad>" "$out"
check_lacks "$T: ... and no counters" "USSD hops received" "$out"
out=$(raw_vty "$VTY_TOKEN" "show stats" "enable" "show running-config" "write file")
check_has "$T: the token opens the VTY" "USSD hops received" "$out"
check_has "$T: show running-config works" "secrets-file" "$out"
for s in "$SENDSMS_PW" "$DB_PW" "$VTY_TOKEN"; do
	check_lacks "$T: show running-config shows no secret (${s%%-[0-9]*})" "$s" "$out"
	check_lacks "$T: show running-config shows no secret in hex (${s%%-[0-9]*})" "$(hex "$s")" "$out"
	check_lacks "$T: the file write file wrote has no secret (${s%%-[0-9]*})" "$s" "$(cat "$OWN_CFG")"
done
check_has "$T: write file wrote the configuration" "kannel sendsms url" "$(cat "$OWN_CFG")"

# ---- the daemon at work with its secrets: a wrong voucher PIN, an order whose SMS goes to a
# sendsms that is not there, a signed till request
P=$(t_phone 40) S=$(t_sid)
ussd "$S" "$P" "" "" "$OWN_URL" >/dev/null
ORDER=$(ussd "$S" "$P" "1*2*1*1*2*1" "" "$OWN_URL" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p')
PIN=9999999900000001
S=$(t_sid)
ussd "$S" "$P" "" "" "$OWN_URL" >/dev/null
r=$(ussd "$S" "$P" "3*${ORDER:-0}*1*$PIN" "" "$OWN_URL")
check_match "$T: a voucher PIN is tried (a wrong one here)" '^(CON|END) ' "$r"
curl -s --noproxy '*' -o /dev/null -H "X-Spaza-Key: rk_test" -H "X-Spaza-Signature: t=$(date +%s),v2=$(printf '%064d' 0)" \
	"$OWN_TILL_URL/api/v1/slips/91234" || true
wait_for 10 grep -q "sendsms" "$OWN_LOG"
LOGTEXT=$(cat "$OWN_LOG")
check_has "$T: the log is at debug level (it would show what it has)" "Received Event HOP" "$LOGTEXT"
for s in "$SENDSMS_PW" "$DB_PW" "$VTY_TOKEN" "$PIN"; do
	check_lacks "$T: the log has no secret or PIN (${s%%-[0-9]*})" "$s" "$LOGTEXT"
done
while read -r name val; do
	check_lacks "$T: the log has no key of the secrets file ($name)" "$val" "$LOGTEXT"
done < <(sed -n 's/^\([a-z-]*\) = \([0-9a-f]*\)$/\1 \2/p' "$T_TMP/secrets")
own_down "$T"
