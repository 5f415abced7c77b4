# Abuse limits: hops per minute and sessions per hour per phone number, and till API requests
# per minute per retailer key, are refused past the configured limit (a short END; 429 with
# Retry-After), counted in `show stats`, and other numbers and keys are unaffected; forged till
# requests do not spend a retailer's budget. A voucher PIN lockout is counted in `show stats`
# too, with the wrong PINs that led to it.
source "$(dirname "$0")/lib.sh"

own_up limits " limits hops-per-minute 5 sessions-per-hour 2" " limits till-requests-per-minute 3" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
LIMITED="END Too many requests from your number. Please try again later."

P=$(t_phone 70)
S=$(t_sid)
for t in "" 1 1*1 1*1*1 1*1*1*0; do r=$(ussd "$S" "$P" "$t" "" "$OWN_URL"); done
check_match "five hops in a minute are served" '^CON ' "$r"
r=$(ussd "$S" "$P" "1*1*1*0*0" "" "$OWN_URL")
check_eq "the sixth hop in a minute is refused" "$LIMITED" "$r"
r=$(ussd "$(t_sid)" "$(t_phone 71)" "" "" "$OWN_URL")
check_match "another number is served meanwhile" '^CON Welcome to Spaza' "$r"

Q=$(t_phone 72)
ussd "$(t_sid)" "$Q" "" "" "$OWN_URL" >/dev/null
ussd "$(t_sid)" "$Q" "" "" "$OWN_URL" >/dev/null
r=$(ussd "$(t_sid)" "$Q" "" "" "$OWN_URL")
check_eq "the third session in an hour is refused" "$LIMITED" "$r"

# ---- till requests per retailer key (limit 3 a minute here) --------------------------------

# new_key NAME: sets KEY and SECRET from spazactl (as in till.sh), with the own daemon's config:
# its secrets file (own_up makes one of its own) derives the keys' secrets
new_key() {
	local out
	out=$("$SPAZACTL" -c "$OWN_CFG" retailer add "$1" 2>&1)
	KEY=$(sed -n 's/^key id *//p' <<<"$out")
	SECRET=$(sed -n 's/^secret *//p' <<<"$out")
	[[ $KEY =~ ^rk_[0-9a-f]{16}$ && $SECRET =~ ^[0-9a-f]{64}$ ]] ||
		{ fail "retailer add $1: got <$(oneline "$out")>"; exit 0; }
}
# till_get KEY SECRET PATH: a signed GET to the own daemon; prints the status and the error
# code; the headers are in $T_TMP/headers, the body in $T_TMP/body. Each is signed at a t of
# its own (a signature is good once), counting back from when this test started.
: > "$T_TMP/till_n"
TILL_T0=$(date +%s)
till_get() {
	echo >> "$T_TMP/till_n"
	local t=$(( TILL_T0 - $(wc -l < "$T_TMP/till_n") ))
	local st; st=$(curl -sS --noproxy '*' --max-time 20 -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' \
		-H "X-Spaza-Key: $1" -H "X-Spaza-Signature: t=$t,v2=$(till_sign "$2" GET "$3" "$1" "$t" "")" "$OWN_TILL_URL$3")
	echo "$st $(sed -nE 's/.*"error": ?"([^"]*)".*/\1/p' "$T_TMP/body")"
}
new_key "Limits test A $$ $RANDOM"
KEY_A=$KEY SECRET_A=$SECRET
new_key "Limits test B $$ $RANDOM"
KEY_B=$KEY SECRET_B=$SECRET
# a well-formed number no slip has: once signed, each request is counted and gets a 404
SLIP=/api/v1/slips/$(luhn_fix 91234999999998)

# forgeries first: signed with A's secret but naming B's key, more of them than B's limit
for i in 1 2 3 4 5; do r=$(till_get "$KEY_B" "$SECRET_A" "$SLIP"); done
check_eq "a forged till request (another key's secret) is refused as a bad signature" "401 bad_signature" "$r"
r=$(till_get "$KEY_B" "$SECRET_B" "$SLIP")
check_eq "... and spends nothing of that key's limit: its retailer is served after five forgeries" \
	"404 unknown_slip" "$r"

for i in 1 2 3; do r=$(till_get "$KEY_A" "$SECRET_A" "$SLIP"); done
check_eq "three signed till requests in a minute are served" "404 unknown_slip" "$r"
r=$(till_get "$KEY_A" "$SECRET_A" "$SLIP")
check_eq "the fourth in the minute is refused: 429 rate_limited" "429 rate_limited" "$r"
ra=$(sed -nE 's/^[Rr]etry-[Aa]fter: *([0-9]+).*/\1/p' "$T_TMP/headers")
check_true "... with a Retry-After of the seconds left in the window (1-60)" "got <$ra>" \
	test -n "$ra" -a "${ra:-0}" -ge 1 -a "${ra:-0}" -le 60
check_eq "... said in the body too" "$ra" "$(sed -nE 's/.*"retry_after_s": ?([0-9]+).*/\1/p' "$T_TMP/body")"
check_match "... as JSON the till API's way, with a message" '^\{"error":"rate_limited","message":"[^"]+ in a minute' "$(cat "$T_TMP/body")"
r=$(till_get "$KEY_A" "$SECRET_A" "$SLIP")
check_eq "a fifth is refused too" "429 rate_limited" "$r"
r=$(till_get "$KEY_B" "$SECRET_B" "$SLIP")
check_eq "another retailer's key is served meanwhile" "404 unknown_slip" "$r"

out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
check_match "refused hops are counted in show stats" 'Hops refused: the phone number sent too many in a minute: +[1-9]' "$out"
check_match "refused sessions are counted in show stats" 'Sessions refused: the phone number started too many in an hour: +[1-9]' "$out"
# exactly the two 429s: neither the forgeries nor the served requests
check_match "refused till requests are counted in show stats, exactly (2)" \
	'Till requests refused: the retailer key sent too many in a minute: +2 ' "$out"
out=$(vty_open "$OWN_VTY" && vty "enable" >/dev/null && vty "show running-config"; vty_close)
check_has "the till limit is in the running config" " limits till-requests-per-minute 3" "$out"
own_down limits

# ---- voucher PIN lockout, on a daemon without per-number limits (7 sessions from one phone) --

own_up limits-pin " limits hops-per-minute 0 sessions-per-hour 0" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
pay() { # pay PHONE TEXT-AFTER-DIAL: a fresh session on the own daemon, prints the last reply
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" "" "$OWN_URL" >/dev/null
	ussd "$sid" "$1" "$2" "" "$OWN_URL"
}
LOCKP=$(t_phone 73)
ORDER=$(pay "$LOCKP" "1*2*1*1*2*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p')
check_match "an order to pay" '^[0-9]+$' "$ORDER"
for n in 1 2 3 4 5; do
	r=$(pay "$LOCKP" "3*$ORDER*1*$(luhn_fix "99999999100000$n")")
done
check_match "the fifth unknown PIN is refused as invalid" '^CON Invalid voucher PIN' "$r"
r=$(pay "$LOCKP" "3*$ORDER*1*$(luhn_fix "999999991000006")")
check_eq "the sixth try is locked out" "END Too many wrong PINs. Voucher payments are locked for 24 hours." "$r"
out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
check_match "the lockout is counted in show stats (limits:pin-lockouts), once" \
	'Voucher payments refused: the customer is locked out after 5 wrong PINs in 24 hours: +1 ' "$out"
check_match "the five wrong PINs are counted (payments:bad-pins)" \
	"Voucher PINs no usable voucher has \\(each counts towards the customer's lockout\\): +5 " "$out"
own_down limits-pin
