# Attacks on the till API's signature that moved money or leaked orders before the v2
# signature (doc/retailer-api.md, "Signing"), each played against a real daemon with requests a
# till really signed, captured and sent again by someone else:
#   - a payment's body and signature sent to the payment's reversal path (it reversed the
#     payment, or, sent first, spent the payment id so the real payment failed);
#   - a payment declined on one slip (already paid) sent to another slip's path (it paid that
#     order), and the declined payment id sent again, freshly signed, for another slip;
#   - a lookup's signature used for other slips and images, and used again (a bearer token for
#     five minutes);
#   - guessing slip numbers to read every order's amount and status (a limit per key on
#     slips that do not exist, 429), and the table of signatures seen staying bounded (503).
# Each signature header also carries the v1 of the scheme before (t "." body under the secret's
# bytes), which a v2 server ignores: on a server of before, these attacks succeed and the
# checks here fail.
source "$(dirname "$0")/lib.sh"

ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }

new_retailer() { # new_retailer NAME [CFG]: sets NEW_KEY and NEW_SECRET from spazactl's output
	local out
	out=$("$SPAZACTL" -c "${2:-$SPAZA_CFG}" retailer add "$1" 2>&1)
	NEW_KEY=$(sed -n 's/^key id *//p' <<<"$out")
	NEW_SECRET=$(sed -n 's/^secret *//p' <<<"$out")
	[[ $NEW_KEY =~ ^rk_[0-9a-f]{16}$ && $NEW_SECRET =~ ^[0-9a-f]{64}$ ]] ||
		{ fail "retailer add $1: got <$(oneline "$out")>"; exit 0; }
}

# capture METHOD TARGET [BODY]: the signature header a till with key $KEY and secret $SECRET
# sends for this request, signed at a t of its own (a signature is good once: counting back
# from when this test started, one a request)
: > "$T_TMP/n"
T0=$(date +%s)
capture() {
	echo >> "$T_TMP/n"
	local t=$(( T0 - $(wc -l < "$T_TMP/n") ))
	local v1; v1=$(printf '%s.%s' "$t" "${3-}" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$SECRET" | awk '{ print $NF }')
	echo "t=$t,v1=$v1,v2=$(till_sign "$SECRET" "$1" "$2" "$KEY" "$t" "${3-}")"
}
# send METHOD TARGET SIGNATURE [BODY] [URL]: the request with that signature header; prints the
# status and the error code or outcome; the body is in $T_TMP/body
send() {
	local args=(-sS --noproxy '*' --max-time 20 -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' -X "$1"
		    -H "X-Spaza-Key: $KEY" -H "X-Spaza-Signature: $3")
	[ "$1" = POST ] && args+=(-H 'Content-Type: application/json' --data-binary "${4-}")
	local st; st=$(curl "${args[@]}" "${5:-$SPAZA_TILL_URL}$2")
	echo "$st $(sed -nE 's/.*"(error|outcome)": ?"([^"]*)".*/\2/p' "$T_TMP/body" | head -1)"
}
# signed METHOD TARGET [BODY] [URL]: send it signed, as the till does
signed() { send "$1" "$2" "$(capture "$1" "$2" "${3-}")" "${3-}" "${4-}"; }
pay_body() { printf '{"type":"payment","ref":"%s","payment_id":"%s","amount_cents":%s}' "$1" "$2" "$3"; }
order_status() { psql_val "SELECT o.status FROM orders o JOIN slips s ON s.order_id = o.id WHERE s.ref = '$1'"; }

new_slip() { # new_slip PHONE-SUFFIX [URL]: an order of 2 x Coke 2L paid by slip; prints the 15 digits
	local p sid order; p=$(t_phone "$1")
	sid=$(t_sid); ussd "$sid" "$p" "" "" "${2-}" >/dev/null
	order=$(ussd "$sid" "$p" "1*2*1*1*2*1" "" "${2-}" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p')
	sid=$(t_sid); ussd "$sid" "$p" "" "" "${2-}" >/dev/null
	ussd "$sid" "$p" "3*$order*3" "" "${2-}" | sed -nE 's/^END Pay .* with slip ([0-9 ]+) by .*/\1/p' | tr -d ' '
}
AMOUNT=5598

new_retailer "Till attacks $$ $RANDOM"
KEY=$NEW_KEY SECRET=$NEW_SECRET
S1=$(new_slip 80) S2=$(new_slip 81) S3=$(new_slip 82) S4=$(new_slip 83)
for s in "$S1" "$S2" "$S3" "$S4"; do
	[[ $s =~ ^9[0-9]{14}$ ]] || { fail "four slips made on USSD: got <$S1 $S2 $S3 $S4>"; exit 0; }
done

# ---- a payment's signature on the reversal path ---------------------------------------------

PID="att-$$-1"
PAY=$(pay_body "$S1" "$PID" $AMOUNT)
SIG=$(capture POST "/api/v1/slips/$S1/payments" "$PAY")
r=$(send POST "/api/v1/slips/$S1/payments/$PID/reversal" "$SIG" "$PAY")
check_eq "a payment's body and signature, sent first to its reversal path: 401 bad_signature" "401 bad_signature" "$r"
r=$(send POST "/api/v1/slips/$S1/payments" "$SIG" "$PAY")
check_eq "... and the till's real payment, arriving after it, pays" "200 paid" "$r"
r=$(send POST "/api/v1/slips/$S1/payments/$PID/reversal" "$SIG" "$PAY")
check_eq "the paid payment's request sent to its reversal path: 401 bad_signature" "401 bad_signature" "$r"
check_eq "... the order stays paid (the cash was taken)" "paid" "$(order_status "$S1")"
r=$(send POST "/api/v1/slips/$S1/payments" "$SIG" "$PAY")
check_eq "the payment's request sent again as it was: 401 replayed" "401 replayed" "$r"
check_eq "one payment on the ledger for the order" "1 0" "$(psql_val "SELECT
	count(*) FILTER (WHERE t.reason = 'slip_payment'), count(*) FILTER (WHERE t.reason = 'reversal')
	FROM ledger_txns t JOIN slips s ON s.order_id = t.order_id WHERE s.ref = '$S1'" | tr '|' ' ')"

# ---- a declined payment on another slip's path -----------------------------------------------

# S2 is paid: the till's payment with a new id is declined; the same request is then sent to
# S4, in the old form (no ref in the body, as the scheme before allowed) and in the new one
r=$(signed POST "/api/v1/slips/$S2/payments" "$(pay_body "$S2" "att-$$-0" $AMOUNT)")
check_eq "another slip, paid by a till" "200 paid" "$r"
PID2="att-$$-2"
OLD_BODY="{\"payment_id\":\"$PID2\",\"amount_cents\":$AMOUNT}"
SIG=$(capture POST "/api/v1/slips/$S2/payments" "$OLD_BODY")
r=$(send POST "/api/v1/slips/$S2/payments" "$SIG" "$OLD_BODY")
check_match "a payment body without its slip, for the paid slip: declined, 4xx" '^4[0-9][0-9] ' "$r"
r=$(send POST "/api/v1/slips/$S4/payments" "$SIG" "$OLD_BODY")
check_eq "... sent to another slip's payments path: 401 bad_signature" "401 bad_signature" "$r"
check_eq "... and that slip's order is not paid" "awaiting_payment" "$(order_status "$S4")"
NEW_BODY=$(pay_body "$S2" "$PID2" $AMOUNT)
SIG=$(capture POST "/api/v1/slips/$S2/payments" "$NEW_BODY")
r=$(send POST "/api/v1/slips/$S2/payments" "$SIG" "$NEW_BODY")
check_eq "a payment for the paid slip is declined: 409 already_paid" "409 already_paid" "$r"
r=$(send POST "/api/v1/slips/$S4/payments" "$SIG" "$NEW_BODY")
check_eq "... sent to another slip's payments path: 401 bad_signature" "401 bad_signature" "$r"
# the declined id sent again, freshly signed, for S4: it stays bound to the slip it was for
r=$(signed POST "/api/v1/slips/$S4/payments" "$(pay_body "$S4" "$PID2" $AMOUNT)")
check_eq "the declined payment id, signed anew for another slip: 409 wrong_slip" "409 wrong_slip" "$r"
check_eq "... and that slip's order is still not paid" "awaiting_payment" "$(order_status "$S4")"
r=$(signed POST "/api/v1/slips/$S4/payments/$PID2/reversal" "{\"type\":\"reversal\",\"ref\":\"$S4\",\"payment_id\":\"$PID2\"}")
check_eq "... nor can it be spent on that slip by a reversal: 409 wrong_slip" "409 wrong_slip" "$r"
PID3="att-$$-3"
r=$(signed POST "/api/v1/slips/$S4/payments" "$(pay_body "$S4" "$PID3" $((AMOUNT - 1)))")
check_eq "a payment id refused on a slip for the wrong amount ..." "422 wrong_amount" "$r"
r=$(signed POST "/api/v1/slips/$S4/payments" "$(pay_body "$S4" "$PID3" $AMOUNT)")
check_eq "... is judged afresh on that slip: the right amount pays" "200 paid" "$r"
check_eq "the bindings are kept in the database" "$S2 $S4" \
	"$(psql_val "SELECT s.ref FROM till_payment_slips b JOIN slips s ON s.id = b.slip_id
		WHERE b.till_payment_id IN ('$PID2', '$PID3') ORDER BY b.till_payment_id" | tr '\n' ' ' | sed 's/ $//')"

# ---- a lookup's signature as a bearer token -------------------------------------------------

SIG=$(capture GET "/api/v1/slips/$S1")
r=$(send GET "/api/v1/slips/$S1" "$SIG")
check_eq "a till's lookup of its slip" "200 " "$r"
for target in "/api/v1/slips/$S3" "/api/v1/slips/$S3.pdf" "/api/v1/slips/$S3.png" "/api/v1/slips/$S1.svg" \
	"/api/v1/slips/$S1?x=1"; do
	r=$(send GET "$target" "$SIG")
	check_eq "its signature used for $target: 401 bad_signature" "401 bad_signature" "$r"
done
r=$(send GET "/api/v1/slips/$S1" "$SIG")
check_eq "its signature used again for the same slip: 401 replayed" "401 replayed" "$r"
check_lacks "... saying nothing of the slip" "amount_cents" "$(cat "$T_TMP/body")"
r=$(send POST "/api/v1/slips/$S3/payments/x-$$/reversal" "$SIG" "")
check_eq "its signature on a reversal with no body: 401 bad_signature" "401 bad_signature" "$r"
r=$(signed GET "/api/v1/slips/$S3?x=1")
check_eq "a query string is signed with the path (and ignored)" "200 " "$r"

out=$(ctl ledger check 2>&1); rc=$?
check_eq "spazactl ledger check passes after the attacks" 0 "$rc"

# ---- guessing slip numbers; the signatures table bounded -----------------------------------

own_up till-attacks " limits till-requests-per-minute 1000" " limits till-unknown-slips-per-minute 3" \
	" till replay-max 100" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
new_retailer "Till guesser $$ $RANDOM" "$OWN_CFG"
KEY=$NEW_KEY SECRET=$NEW_SECRET
for n in 1 2 3; do
	r=$(signed GET "/api/v1/slips/$(luhn_fix "912349999999$n$n")" "" "$OWN_TILL_URL")
	check_eq "a guessed number no slip has ($n of the 3 a minute allowed here): 404" "404 unknown_slip" "$r"
done
r=$(signed GET "/api/v1/slips/$(luhn_fix 91234999999944)" "" "$OWN_TILL_URL")
check_eq "the fourth guess in the minute: 429 too_many_unknown_slips" "429 too_many_unknown_slips" "$r"
ra=$(sed -nE 's/^[Rr]etry-[Aa]fter: *([0-9]+).*/\1/p' "$T_TMP/headers")
check_true "... with a Retry-After of the seconds left in the minute (1-60)" "got <$ra>" \
	test -n "$ra" -a "${ra:-0}" -ge 1 -a "${ra:-0}" -le 60
r=$(signed GET "/api/v1/slips/$S3" "" "$OWN_TILL_URL")
check_eq "... and a number that does exist is not answered either (no amount, no status)" "429 too_many_unknown_slips" "$r"
check_lacks "... nothing of the slip in the answer" "amount" "$(sed 's/"message":"[^"]*"//' "$T_TMP/body")"
r=$(signed GET "/api/v1/slips/$S3.pdf" "" "$OWN_TILL_URL")
check_eq "... nor its image" "429 too_many_unknown_slips" "$r"
r=$(signed POST "/api/v1/slips/$S3/payments" "$(pay_body "$S3" "g-$$" 1)" "$OWN_TILL_URL")
check_eq "... nor a payment, whose refusal would say the amount due" "429 too_many_unknown_slips" "$r"
r=$(signed POST "/api/v1/slips/$S3/payments/g-$$-r/reversal" "{\"type\":\"reversal\",\"ref\":\"$S3\",\"payment_id\":\"g-$$-r\"}" "$OWN_TILL_URL")
check_eq "... while a reversal still goes through (it undoes money a till took)" "200 reversed" "$r"
new_retailer "Till honest $$ $RANDOM" "$OWN_CFG"
KEY_G=$KEY SECRET_G=$SECRET KEY=$NEW_KEY SECRET=$NEW_SECRET
r=$(signed GET "/api/v1/slips/$S3" "" "$OWN_TILL_URL")
check_eq "another retailer's key looks the slip up meanwhile" "200 " "$r"
RSIG=$(capture GET "/api/v1/slips/$S3")
send GET "/api/v1/slips/$S3" "$RSIG" "" "$OWN_TILL_URL" >/dev/null
r=$(send GET "/api/v1/slips/$S3" "$RSIG" "" "$OWN_TILL_URL")
check_eq "... and cannot send its lookup twice: 401 replayed" "401 replayed" "$r"
out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
check_match "the replay is counted in show stats (till:replayed)" 'same signature was seen before within its 300 s: +1( |$)' "$out"
check_match "the refusals are counted in show stats (limits:till-unknown-slips), 4" \
	'named too many slips that do not exist in a minute: +4( |$)' "$out"

# the table of signatures seen holds 100 here: signed requests past that are refused, not
# forgotten (each a lookup of its own: its query is signed too)
T0=$(date +%s)
: > "$T_TMP/n"
served=0 first_busy=""
for n in $(seq 1 120); do
	r=$(signed GET "/api/v1/slips/$S3?n=$n" "" "$OWN_TILL_URL")
	case $r in
	"200 "*) served=$((served + 1)) ;;
	"503 busy") first_busy=$n; break ;;
	*) fail "a lookup while filling the signatures table: expected 200 or 503 busy, got <$r>"; break ;;
	esac
done
check_true "with 100 signatures remembered, the next signed request is refused: 503 busy" \
	"served $served, first busy: <$first_busy>" test -n "$first_busy" -a "$served" -ge 80 -a "$served" -le 100
check_match "... with a Retry-After" $'[Rr]etry-[Aa]fter: [0-9]+' "$(cat "$T_TMP/headers")"
out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
check_match "... counted in show stats (till:replay-full)" 'recent signatures \(till replay-max\) was full: +[1-9]' "$out"
check_lacks "the daemon's log has no till secret" "$SECRET_G" "$(cat "$OWN_LOG")"
check_lacks "... and no signature" "${RSIG##*v2=}" "$(cat "$OWN_LOG")"
own_down "till attacks"
