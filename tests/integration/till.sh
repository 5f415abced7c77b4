# The retailer till API (front_till.c, doc/retailer-api.md) over real HTTP, every request
# signed with openssl exactly as the reference tells tills to: a slip made on USSD is looked
# up, paid once however often the payment is sent again, reversed, and refused for every reason
# the reference lists (bad, missing, stale or replayed signatures, unknown keys and slips, wrong
# amounts, another retailer's or a reversed payment id, expired slips, malformed JSON, bodies
# without their type or slip). till_attacks.sh has the attacks on the signature itself. Slip images come
# signed over HTTP and from spazactl, their QR payload verifies and a forged one does not.
# The ledger check passes at the end.
source "$(dirname "$0")/lib.sh"

ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }

# The shared daemon's secrets file holds the keys this needs (scripts/lib.sh spazad_cfg).
SECRETS=$(awk '$1 == "secrets-file" { print $2 }' "$SPAZA_CFG")
if ! grep -qE '^retailer-master *=' "$SECRETS" 2>/dev/null || ! grep -qE '^slip-qr *=' "$SECRETS" 2>/dev/null; then
	fail "the shared config's secrets file ($SECRETS) has retailer-master and slip-qr: it has not"
	exit 0
fi

# ---- helpers: a retailer, a slip, signed requests ----------------------------------------

new_retailer() { # new_retailer NAME: sets NEW_KEY and NEW_SECRET from spazactl's output
	local out
	out=$(ctl retailer add "$1" 2>&1)
	NEW_KEY=$(sed -n 's/^key id *//p' <<<"$out")
	NEW_SECRET=$(sed -n 's/^secret *//p' <<<"$out")
	[[ $NEW_KEY =~ ^rk_[0-9a-f]{16}$ && $NEW_SECRET =~ ^[0-9a-f]{64}$ ]] ||
		{ fail "retailer add $1: got <$(oneline "$out")>"; exit 0; }
}
new_retailer "Till test A $$ $RANDOM"
KEY_A=$NEW_KEY SECRET_A=$NEW_SECRET
new_retailer "Till test B $$ $RANDOM"
KEY_B=$NEW_KEY SECRET_B=$NEW_SECRET

# api METHOD PATH [BODY]: a signed request with retailer A's key (override with KEY=, SECRET=,
# T= (the time signed), SIG= (the whole signature header) or NOSIG=1); prints the status, the
# body is in $T_TMP/body, the headers in $T_TMP/headers. A signature is good once, so a request
# the same as one signed in this second waits for the next (T= and SIG= are taken as given).
: > "$T_TMP/signed"
api() {
	local method=$1 path=$2 body=${3-} t=${T:-} key=${KEY:-$KEY_A} secret=${SECRET:-$SECRET_A} id
	if [ -z "$t" ]; then
		id=$(printf '%s\n' "$method" "$path" "$key" "$body" | openssl dgst -sha256 | awk '{ print $NF }')
		t=$(date +%s)
		grep -qx "$t $id" "$T_TMP/signed" && { next_second; t=$(date +%s); }
		echo "$t $id" >> "$T_TMP/signed"
	fi
	local args=(-sS --noproxy '*' --max-time 20 -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' -X "$method")
	[ -n "$key" ] && args+=(-H "X-Spaza-Key: $key")
	[ -z "${NOSIG:-}" ] &&
		args+=(-H "X-Spaza-Signature: ${SIG:-t=$t,v2=$(till_sign "$secret" "$method" "$path" "$key" "$t" "$body")}")
	[ "$method" = POST ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "$SPAZA_TILL_URL$path"
}
body() { cat "$T_TMP/body"; }
# pay_body PAYMENT-ID AMOUNT [REF], rev_body PAYMENT-ID [REF]: the bodies as the reference gives
# them, for slip $REF unless told
pay_body() { printf '{"type":"payment","ref":"%s","payment_id":"%s","amount_cents":%s}' "${3:-$REF}" "$1" "$2"; }
rev_body() { printf '{"type":"reversal","ref":"%s","payment_id":"%s"}' "${2:-$REF}" "$1"; }
# refused_body PATH WHAT BODY: a POST of BODY to PATH is refused, 400 bad_request
refused_body() { check_api "$2: 400" "400" "bad_request" "$(api POST "$1" "$3")"; }
# jfield NAME: a string, number or boolean field of the last body
jfield() { sed -nE 's/.*"'"$1"'": ?("([^"]*)"|([-0-9a-z.]+)).*/\2\3/p' "$T_TMP/body"; }
check_api() { # check_api WHAT STATUS ERROR-CODE-OR-OUTCOME GOT-STATUS
	local code
	code=$(jfield error)
	[ -n "$code" ] || code=$(jfield outcome)
	[ -n "$code" ] || code=$(jfield status)
	check_eq "$1" "$2 $3" "$4 $code"
}

order_via_ussd() { # order_via_ussd PHONE: 2 x Coke 2L (R55.98); prints the order number
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" >/dev/null
	ussd "$sid" "$1" "1*2*1*1*2*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p'
}
slip_via_ussd() { # slip_via_ussd PHONE ORDER: "Pay -> 3 Barcode slip"; prints the grouped number
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" >/dev/null
	ussd "$sid" "$1" "3*$2*3" | sed -nE 's/^END Pay .* with slip ([0-9 ]+) by .*/\1/p'
}

PHONE=$(t_phone 70)
ORDER=$(order_via_ussd "$PHONE")
GROUPED=$(slip_via_ussd "$PHONE" "$ORDER")
REF=${GROUPED// /}
check_match "a slip made on USSD (dial, order, Pay, 3 Barcode slip)" '^9[0-9]{14}$' "$REF"
[[ $REF =~ ^9[0-9]{14}$ ]] || exit 0
AMOUNT=5598

# ---- lookup -------------------------------------------------------------------------------

st=$(api GET "/api/v1/slips/$REF")
check_api "lookup of an open slip: 200, open" "200" "open" "$st"
check_eq "... the amount due" "$AMOUNT" "$(jfield amount_cents)"
check_eq "... the order" "$ORDER" "$(jfield order)"
check_eq "... payable" "true" "$(jfield payable)"
check_eq "... the grouped number" "$GROUPED" "$(jfield ref_grouped)"
check_match "... the expiry in UTC" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$(jfield expires_at)"
check_match "... as application/json" $'[Cc]ontent-[Tt]ype: application/json' "$(cat "$T_TMP/headers")"
st=$(api GET "/api/v1/slips/${GROUPED// /%20}")
check_api "lookup by the grouped number as typed (spaces)" "200" "open" "$st"
st=$(api GET "/api/v1/slips/0$REF")
check_api "lookup by the 16 digits an ITF scan gives (0 + the number)" "200" "open" "$st"

# ---- refused: signatures, clock, keys, slips ------------------------------------------------

st=$(SECRET=$SECRET_B api GET "/api/v1/slips/$REF")
check_api "signed with another retailer's secret: 401" "401" "bad_signature" "$st"
st=$(NOSIG=1 api GET "/api/v1/slips/$REF")
check_api "no signature: 401" "401" "missing_signature" "$st"
st=$(KEY=" " api GET "/api/v1/slips/$REF")
check_api "no key id: 401" "401" "missing_key" "$st"
st=$(SIG="t=$(date +%s),v2=nothex" api GET "/api/v1/slips/$REF")
check_api "a malformed signature header: 401" "401" "bad_signature_header" "$st"
st=$(T=$(( $(date +%s) - 301 )) api GET "/api/v1/slips/$REF")
check_api "signed 301 s ago: 401 stale" "401" "stale_timestamp" "$st"
st=$(T=$(( $(date +%s) + 400 )) api GET "/api/v1/slips/$REF")
check_api "signed 400 s in the future: 401 stale" "401" "stale_timestamp" "$st"
st=$(T=$(( $(date +%s) - 250 )) api GET "/api/v1/slips/$REF")
check_api "signed 250 s ago: still accepted" "200" "open" "$st"
# the body is signed: a payment whose amount is changed after signing is refused
t=$(date +%s)
st=$(SIG="t=$t,v2=$(till_sign "$SECRET_A" POST "/api/v1/slips/$REF/payments" "$KEY_A" "$t" "$(pay_body x-1 1)")" \
	api POST "/api/v1/slips/$REF/payments" "$(pay_body x-1 "$AMOUNT")")
check_api "a body changed after signing: 401" "401" "bad_signature" "$st"
st=$(KEY=rk_0000000000000000 SECRET=$SECRET_A api GET "/api/v1/slips/$REF")
check_api "an unknown key id (the signature cannot match its secret): 401" "401" "bad_signature" "$st"

UNKNOWN=$(luhn_fix 91234999999998)
st=$(api GET "/api/v1/slips/$UNKNOWN")
check_api "lookup of an unknown slip: 404" "404" "unknown_slip" "$st"
BADCHECK=${REF:0:14}$(( (${REF:14:1} + 1) % 10 ))
st=$(api GET "/api/v1/slips/$BADCHECK")
check_api "a number with a wrong check digit: 404" "404" "unknown_slip" "$st"
check_has "... saying the check digit is wrong" "check digit" "$(body)"
st=$(api GET "/api/v1/slips/$REF/other")
check_api "an unknown endpoint: 404" "404" "not_found" "$st"

# ---- paying -------------------------------------------------------------------------------

PID="till-a-$$-$RANDOM"
st=$(api POST "/api/v1/slips/$REF/payments" "$(pay_body "$PID" $((AMOUNT - 1)))")
check_api "the wrong amount: 422" "422" "wrong_amount" "$st"
check_eq "... saying what is due" "$AMOUNT" "$(jfield amount_cents)"
st=$(api POST "/api/v1/slips/$REF/payments" "{\"payment_id\":\"$PID\",\"amount_cents\":")
check_api "malformed JSON: 400" "400" "bad_json" "$st"
st=$(api POST "/api/v1/slips/$REF/payments" "[\"$PID\", $AMOUNT]")
check_api "JSON that is not an object: 400" "400" "bad_json" "$st"
st=$(api POST "/api/v1/slips/$REF/payments" "$(pay_body "$PID" '"55.98"')")
check_api "an amount that is not whole cents: 400" "400" "bad_request" "$st"
P=/api/v1/slips/$REF/payments
refused_body "$P" "no payment id" "{\"type\":\"payment\",\"ref\":\"$REF\",\"amount_cents\":$AMOUNT}"
refused_body "$P" "a body naming another slip than the path" "$(pay_body "$PID" "$AMOUNT" "$UNKNOWN")"
refused_body "$P" "a payment body without its slip (ref)" "{\"type\":\"payment\",\"payment_id\":\"$PID\",\"amount_cents\":$AMOUNT}"
refused_body "$P" "a payment body without its type" "{\"ref\":\"$REF\",\"payment_id\":\"$PID\",\"amount_cents\":$AMOUNT}"
refused_body "$P" "a body of type reversal on the payments path" \
	"{\"type\":\"reversal\",\"ref\":\"$REF\",\"payment_id\":\"$PID\",\"amount_cents\":$AMOUNT}"
check_eq "none of that paid anything" "awaiting_payment" "$(psql_val "SELECT status FROM orders WHERE id = $ORDER")"

PAY_BODY="{\"type\":\"payment\",\"payment_id\":\"$PID\",\"amount_cents\":$AMOUNT,\"ref\":\"$GROUPED\"}"
st=$(api POST "/api/v1/slips/$REF/payments" "$PAY_BODY")
check_api "the payment: 200 paid" "200" "paid" "$st"
cp "$T_TMP/body" "$T_TMP/first"
check_eq "... for the order" "$ORDER" "$(jfield order)"
check_eq "... with the till's payment id" "$PID" "$(jfield payment_id)"
check_eq "the order is paid, by slip" "paid|slip" "$(psql_val "SELECT status || '|' || payment_method FROM orders WHERE id = $ORDER")"

# sent again 10 times at once, each with a signature of its own (signed 101, 102, ... s ago, no
# second api() signs at): one payment, the first response
t0=$(( $(date +%s) - 100 ))
for i in $(seq 1 10); do
	( t=$(( t0 - i ))
	  curl -sS --noproxy '*' --max-time 20 -o "$T_TMP/replay.$i" -w '%{http_code}' -X POST -H "X-Spaza-Key: $KEY_A" \
		-H "X-Spaza-Signature: t=$t,v2=$(till_sign "$SECRET_A" POST "/api/v1/slips/$REF/payments" "$KEY_A" "$t" "$PAY_BODY")" \
		-H 'Content-Type: application/json' --data-binary "$PAY_BODY" "$SPAZA_TILL_URL/api/v1/slips/$REF/payments" \
		> "$T_TMP/replay.$i.status" ) &
done
wait
same=0
for i in $(seq 1 10); do
	[ "$(cat "$T_TMP/replay.$i.status")" = 200 ] && cmp -s "$T_TMP/first" "$T_TMP/replay.$i" && same=$((same + 1))
done
check_eq "the payment sent 10 times at once: 10 x 200 with the first response, byte for byte" 10 "$same"
# the same request again, signature and all (a replay within the 300 s): refused, nothing done
t=$(( $(date +%s) - 200 ))
SIG_FIXED="t=$t,v2=$(till_sign "$SECRET_A" POST "/api/v1/slips/$REF/payments" "$KEY_A" "$t" "$PAY_BODY")"
SIG=$SIG_FIXED api POST "/api/v1/slips/$REF/payments" "$PAY_BODY" >/dev/null
check_true "... once more with a signature of its own: the first response" "the responses differ" \
	cmp -s "$T_TMP/first" "$T_TMP/body"
st=$(SIG=$SIG_FIXED api POST "/api/v1/slips/$REF/payments" "$PAY_BODY")
check_api "... and that signed request again, byte for byte: 401 replayed" "401" "replayed" "$st"
check_eq "one till payment, one ledger posting for the slip" "1 1" "$(psql_val "SELECT
	(SELECT count(*) FROM till_payments p JOIN slips s ON s.id = p.slip_id WHERE s.ref = '$REF'),
	(SELECT count(*) FROM ledger_txns WHERE order_id = $ORDER AND reason = 'slip_payment')" | tr '|' ' ')"
# the same id, reformatted JSON, same content: the same request
st=$(api POST "/api/v1/slips/$REF/payments" "{ \"amount_cents\": $AMOUNT, \"payment_id\": \"$PID\", \"ref\": \"$REF\", \"type\": \"payment\" }")
check_true "the same id and content, other JSON layout: the first response" "status $st" cmp -s "$T_TMP/first" "$T_TMP/body"
st=$(api POST "/api/v1/slips/$REF/payments" "$(pay_body "$PID" $((AMOUNT + 1)))")
check_api "the same payment id with another amount: 409" "409" "conflict" "$st"
st=$(api POST "/api/v1/slips/$REF/payments" "$(pay_body "$PID-2" "$AMOUNT")")
check_api "another payment id for the paid slip: 409" "409" "already_paid" "$st"

st=$(api GET "/api/v1/slips/$REF")
check_api "lookup after paying: paid" "200" "paid" "$st"
check_eq "... by this retailer's payment, named" "true $PID" "$(jfield paid_by_you) $(jfield payment_id)"
st=$(KEY=$KEY_B SECRET=$SECRET_B api GET "/api/v1/slips/$REF")
check_eq "another retailer sees it paid, not by them, without the payment id" "200 paid false " \
	"$st $(jfield status) $(jfield paid_by_you) $(jfield payment_id)"

# another retailer reversing A's payment id: B never made a payment with it
st=$(KEY=$KEY_B SECRET=$SECRET_B api POST "/api/v1/slips/$REF/payments/$PID/reversal" "$(rev_body "$PID")")
check_api "another retailer's payment id cannot be reversed: 409" "409" "paid_by_other" "$st"
check_eq "... and the order stays paid" "paid" "$(psql_val "SELECT status FROM orders WHERE id = $ORDER")"

# ---- reversing ----------------------------------------------------------------------------

st=$(api POST "/api/v1/slips/$REF/payments/$PID/reversal" "")
check_api "a reversal without a body naming the payment: 400" "400" "bad_json" "$st"
P=/api/v1/slips/$REF/payments/$PID/reversal
refused_body "$P" "a reversal whose body names another payment" "$(rev_body other)"
refused_body "$P" "a reversal body that does not say it is one (no type)" "{\"ref\":\"$REF\",\"payment_id\":\"$PID\"}"
refused_body "$P" "a reversal body without its slip (ref)" "{\"type\":\"reversal\",\"payment_id\":\"$PID\"}"
REV_BODY=$(rev_body "$PID")
st=$(api POST "/api/v1/slips/$REF/payments/$PID/reversal" "$REV_BODY")
check_api "the reversal: 200 reversed" "200" "reversed" "$st"
check_eq "... of the amount paid" "$AMOUNT" "$(jfield amount_cents)"
cp "$T_TMP/body" "$T_TMP/rev_first"
st=$(api POST "/api/v1/slips/$REF/payments/$PID/reversal" "$REV_BODY")
check_true "the reversal repeated: the first response" "status $st" cmp -s "$T_TMP/rev_first" "$T_TMP/body"
check_eq "the order awaits payment again, the slip is open" "awaiting_payment open" \
	"$(psql_val "SELECT o.status || ' ' || s.status FROM orders o JOIN slips s ON s.order_id = o.id WHERE s.ref = '$REF'")"
st=$(api POST "/api/v1/slips/$REF/payments" "$PAY_BODY")
check_api "paying again with the reversed payment id (pay after reverse): 409" "409" "reversed" "$st"

# a till's timeout: it never heard back, so it reverses the id; the payment arriving late is refused
PID3="till-a-$$-late"
st=$(api POST "/api/v1/slips/$REF/payments/$PID3/reversal" "$(rev_body "$PID3")")
check_api "reversing a payment id never seen (a till's timeout): 200 reversed" "200" "reversed" "$st"
check_eq "... of nothing" "0" "$(jfield amount_cents)"
st=$(api POST "/api/v1/slips/$REF/payments" "$(pay_body "$PID3" "$AMOUNT")")
check_api "... so the payment arriving late is refused: 409" "409" "reversed" "$st"

# a new payment; then a reversal of some other, never seen id (reverse after pay) and one after shipping
PID2="till-a-$$-second"
st=$(api POST "/api/v1/slips/$REF/payments" "$(pay_body "$PID2" "$AMOUNT")")
check_api "a new payment id pays the reopened slip" "200" "paid" "$st"
st=$(api POST "/api/v1/slips/$REF/payments/nope-$$/reversal" "$(rev_body "nope-$$")")
check_api "reversing an id that did not pay the paid slip (reverse after pay): 409" "409" "paid_by_other" "$st"
ctl order status "$ORDER" shipped >/dev/null
st=$(api POST "/api/v1/slips/$REF/payments/$PID2/reversal" "$(rev_body "$PID2")")
check_api "reversing after the order shipped: 409" "409" "shipped" "$st"
st=$(api POST "/api/v1/slips/$REF/payments/never-$$/reversal" "$(rev_body "never-$$" "$UNKNOWN")")
check_api "a reversal whose body names another slip: 400" "400" "bad_request" "$st"
st=$(api POST "/api/v1/slips/$UNKNOWN/payments/never-$$/reversal" "$(rev_body "never-$$" "$UNKNOWN")")
check_api "a reversal on an unknown slip: 404" "404" "unknown_slip" "$st"

# ---- expired slips, revoked keys -----------------------------------------------------------

PHONE2=$(t_phone 71)
ORDER2=$(order_via_ussd "$PHONE2")
REF2=$(slip_via_ussd "$PHONE2" "$ORDER2")
REF2=${REF2// /}
psql_val "UPDATE slips SET expires_at = now() - interval '1 minute' WHERE ref = '$REF2'" >/dev/null
st=$(api GET "/api/v1/slips/$REF2")
check_api "lookup of an expired slip: 410" "410" "expired" "$st"
check_eq "... still saying what it was for" "$ORDER2 $AMOUNT" "$(jfield order) $(jfield amount_cents)"
st=$(api POST "/api/v1/slips/$REF2/payments" "$(pay_body "exp-$$" "$AMOUNT" "$REF2")")
check_api "paying an expired slip: 410" "410" "expired" "$st"
st=$(api GET "/api/v1/slips/$REF2.pdf")
check_api "no image of an expired slip: 410" "410" "expired" "$st"

ctl retailer rotate-key "$(psql_val "SELECT r.name FROM retailers r JOIN retailer_keys k ON k.retailer_id = r.id
	WHERE k.key_id = '$KEY_B'")" >/dev/null
st=$(KEY=$KEY_B SECRET=$SECRET_B api GET "/api/v1/slips/$REF")
check_api "a revoked key (after rotate-key), signed right: 401" "401" "unknown_key" "$st"
st=$(KEY=$KEY_B SECRET=$SECRET_B api POST "/api/v1/slips/$REF/payments" "$(pay_body "b-$$" "$AMOUNT")")
check_api "... paying with it too" "401" "unknown_key" "$st"

# ---- slip images --------------------------------------------------------------------------

PHONE3=$(t_phone 72)
ORDER3=$(order_via_ussd "$PHONE3")
REF3=$(slip_via_ussd "$PHONE3" "$ORDER3")
REF3=${REF3// /}
st=$(api GET "/api/v1/slips/$REF3.png")
check_eq "the slip as PNG: 200 image/png" "200 image/png" "$st $(sed -nE 's/^[Cc]ontent-[Tt]ype: *([^;[:space:]]*).*/\1/p' "$T_TMP/headers")"
check_eq "... a PNG file" "89504e470d0a1a0a" "$(head -c 8 "$T_TMP/body" | od -An -tx1 | tr -d ' \n')"
if command -v python3 >/dev/null && python3 -c 'import zlib' 2>/dev/null; then
	out=$(python3 - "$T_TMP/body" <<-'PY'
		import struct, sys, zlib
		d = open(sys.argv[1], 'rb').read()
		pos, idat, w, h = 8, b'', 0, 0
		while pos < len(d):
		    n, = struct.unpack('>I', d[pos:pos + 4]); t = d[pos + 4:pos + 8]; c = d[pos + 8:pos + 8 + n]
		    assert struct.unpack('>I', d[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(t + c), 'crc'
		    if t == b'IHDR': w, h = struct.unpack('>II', c[:8])
		    if t == b'IDAT': idat += c
		    pos += 12 + n
		raw = zlib.decompress(idat)
		print(w, h, len(raw) == h * ((w + 7) // 8 + 1))
	PY
	)
	check_match "... zlib reads it: 640 px wide, every row there" '^640 [0-9]+ True$' "$out"
fi
st=$(api GET "/api/v1/slips/$REF3.svg")
check_eq "the slip as SVG: 200 image/svg+xml" "200 image/svg+xml" "$st $(sed -nE 's/^[Cc]ontent-[Tt]ype: *([^;[:space:]]*).*/\1/p' "$T_TMP/headers")"
check_has "... with the grouped number" ">$(sed -E 's/(....)(....)(....)(...)/\1 \2 \3 \4/' <<<"$REF3")</text>" "$(body)"
if command -v xmllint >/dev/null; then
	check_true "... well-formed XML" "xmllint refuses it" xmllint --noout "$T_TMP/body"
fi
st=$(api GET "/api/v1/slips/$REF3.pdf")
check_eq "the slip as PDF: 200 application/pdf" "200 application/pdf" "$st $(sed -nE 's/^[Cc]ontent-[Tt]ype: *([^;[:space:]]*).*/\1/p' "$T_TMP/headers")"
check_eq "... a PDF file, whole" "%PDF-1.4 %%EOF" "$(head -c 8 "$T_TMP/body") $(tail -c 6 "$T_TMP/body" | tr -d '\n')"
check_has "... with the order" "(Order #$ORDER3) Tj" "$(tr -d '\000' < "$T_TMP/body")"
st=$(NOSIG=1 api GET "/api/v1/slips/$REF3.pdf")
check_api "slip images need a signature too: 401" "401" "missing_signature" "$st"
st=$(api GET "/api/v1/slips/$REF3.gif")
check_api "an image format we do not make: 404" "404" "not_found" "$st"

for f in pdf png svg; do
	out=$(ctl slip print "$REF3" --format "$f" --out "$T_TMP/slip.$f" 2>&1); rc=$?
	check_eq "spazactl slip print --format $f: exit 0" 0 "$rc"
	api GET "/api/v1/slips/$REF3.$f" >/dev/null
	check_true "... the same file as over HTTP" "they differ" cmp -s "$T_TMP/body" "$T_TMP/slip.$f"
done
check_eq "spazactl slip print: a PDF" "%PDF-1.4" "$(head -c 8 "$T_TMP/slip.pdf")"
out=$(ctl slip print "${REF3:0:14}$(( (${REF3:14:1} + 1) % 10 ))" --format pdf --out "$T_TMP/x.pdf" 2>&1); rc=$?
check_eq "spazactl slip print of a mistyped number: usage error (2)" 2 "$rc"
out=$(ctl slip print "$REF2" --format pdf --out "$T_TMP/x.pdf" 2>&1); rc=$?
check_eq "spazactl slip print of an expired slip: exit 1" 1 "$rc"

# the QR payload as doc/retailer-api.md defines it, signed here with openssl
QRKEY=$(sed -nE 's/^slip-qr *= *([0-9a-fA-F]+).*/\1/p' "$SECRETS")
EXP=$(psql_val "SELECT to_char(expires_at, 'YYYYMMDD') FROM slips WHERE ref = '$REF3'")
MSG="SPAZA1:$REF3:$AMOUNT:$EXP"
QR="$MSG:$(printf '%s' "$MSG" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$QRKEY" |
	awk '{ print toupper(substr($NF, 1, 32)) }')"
out=$(ctl slip verify "$QR" 2>&1); rc=$?
check_eq "spazactl slip verify of the slip's QR payload: exit 0" 0 "$rc"
check_has "... genuine" "genuine: slip $(sed -E 's/(....)(....)(....)(...)/\1 \2 \3 \4/' <<<"$REF3") for R55.98" "$out"
FORGED=${QR/:$AMOUNT:/:598:}
out=$(ctl slip verify "$FORGED" 2>&1); rc=$?
check_eq "a forged amount in the QR payload: exit 1" 1 "$rc"
check_has "... FORGED" "FORGED" "$out"
out=$(ctl slip verify "hello" 2>&1); rc=$?
check_eq "not a slip payload: exit 1" 1 "$rc"

# ---- the reference's signing, as a retailer's developer reads it --------------------------------

BODY_V='{"type":"payment","ref":"912340000010089","payment_id":"till7-000123","amount_cents":5598}'
check_eq "the reference's test vector (a payment) is what tills compute here" \
	"20781e708be6bf4d84094525b906645ac336f0a924be11d0c90382ee5c65352b" \
	"$(till_sign 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f POST \
		/api/v1/slips/912340000010089/payments rk_0123456789abcdef 1700000000 "$BODY_V")"
check_eq "... and (a lookup)" "087170d8baf8d401e0311a55b209d73a65ba0d0c03f4ddcba25c6e9095c915d0" \
	"$(till_sign 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f GET \
		/api/v1/slips/912340000010089 rk_0123456789abcdef 1700000000 "")"

# the worked example's shell block, run with sh as it is written, on a new slip (its own key,
# secret, daemon and slip put in its first lines)
PHONE4=$(t_phone 73)
ORDER4=$(order_via_ussd "$PHONE4")
REF4=$(slip_via_ussd "$PHONE4" "$ORDER4")
REF4=${REF4// /}
awk '/^```sh$/ { f = 1; next } /^```$/ { f = 0 } f' "$SPAZA_TOP/doc/retailer-api.md" |
	sed -e "s|^KEY=.*|KEY=$KEY_A|" -e "s|^SECRET=.*|SECRET=$SECRET_A|" -e "s|^URL=.*|URL=$SPAZA_TILL_URL|" \
	    -e "s|^REF=.*|REF=$REF4|" > "$T_TMP/example.sh"
out=$(cd "$T_TMP" && sh example.sh 2>&1)
check_eq "the worked example: the lookup, the payment, the reversal" "open paid reversed" \
	"$(sed -nE 's/.*"(status|outcome)":"([a-z_]+)".*/\2/p' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
check_eq "... for the slip's order and amount" "$ORDER4 $AMOUNT" \
	"$(sed -nE '/"outcome":"paid"/s/.*"order":([0-9]+).*"amount_cents":([0-9]+).*/\1 \2/p' <<<"$out")"
check_eq "... and the slip as a PDF" "%PDF-1.4" "$(head -c 8 "$T_TMP/slip.pdf" 2>/dev/null)"

# ---- the daemon's counters and the ledger --------------------------------------------------

out=$(ctl ledger check 2>&1); rc=$?
check_eq "spazactl ledger check passes after the till API's payments and reversals" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | grep VIOLATION | head -5 | sed 's/^/  /'
