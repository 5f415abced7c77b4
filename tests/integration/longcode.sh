# One dial string, three meanings (doc/crm.md; sql/026_longcode_consent.sql, domain/longcode.c):
# *120*777*<digits># is, in this order,
#   1. a started campaign's dial code: the home screen; `spazactl campaign report` counts the
#      dial and the order placed in that session (a draft campaign's code is not yet one);
#   2. one of the caller's own orders: its pay screen;
#   3. a referral code: entered for the caller, My points' outcome on screen in the caller's
#      language (ok, own code, already, not new, month cap), then home;
#   4. anything else: pay's "Order #N not found.".
# The collisions: the caller's order that is also a referral code pays (2 before 3); another
# customer's order that is also a referral code enters the code and says nothing of that order;
# a campaign's code that is the caller's order, or a referral code, opens the home screen (1
# first). A plain dial, a campaign's code and digits no referral code can be (not six) cost no
# customer lookup for a cached caller; six digits cost that one statement.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/money_lib.sh"
T=longcode

HOME=$'CON Welcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Language\n5. Help\n6. Basket\n7. My account'
dial() { ussd "${4:-$(t_sid)}" "$(msisdn_of "$1")" "${3:-}" "*120*777*$2#"; }	# dial CUSTOMER DIGITS [TEXT] [SESSION]
code_of() { ctl referral code "$(msisdn_of "$1")" | sed -n 's/^.*referral code \([0-9]*\)$/\1/p'; }
referrer_of() { psql_val "SELECT coalesce(referrer_id::text, '-') FROM referrals WHERE referee_id = $1"; }
lang() { psql_val "UPDATE customers SET lang = '$2' WHERE id = $1" >/dev/null; }
# the customer lookups spazad made (show stats), to count what a dial asks of the database
LOOKUPS="Customer records fetched or created in the database"
vty_open "$SPAZA_VTY_PORT" || { echo "VTY on port $SPAZA_VTY_PORT not reachable" >&2; exit 1; }
at_exit vty_close
lookups() { stat_count "$LOOKUPS" "$(vty "show stats")"; }
# asks CUSTOMER CODE: how many lookups one dial of that service code made (its session left)
asks() {
	local before after
	before=$(lookups)
	ussd "$(t_sid)" "$(msisdn_of "$1")" "" "$2" >/dev/null
	after=$(lookups)
	echo $((after - before))
}
continued() { printf '%s\n1. Continue' "$1"; }
OK_TEXT="Thank you! When your first order is paid, you and the person who told you both get points."

R=$(money_customer)
CODE=$(code_of "$R")
check_match "$T: the referrer's code is six digits" '^[1-9][0-9]{5}$' "$CODE"

# ---- 3. a referral code: entered for the caller, then home
N=$(money_customer)
ussd "$(t_sid)" "$(msisdn_of "$N")" "" >/dev/null	# a plain dial: the customer is cached from here on
check_eq "$T: a plain dial of a cached caller asks the database nothing" 0 "$(asks "$N" "*120*777#")"
SID=$(t_sid)
check_eq "$T: another customer's referral code is entered for the caller, said on screen" \
	"$(continued "CON $OK_TEXT")" "$(dial "$N" "$CODE" "" "$SID")"
check_eq "$T: ... the referral recorded: the referrer is the code's" "$R" "$(referrer_of "$N")"
check_eq "$T: ... then 1 goes home" "$HOME" "$(dial "$N" "$CODE" 1 "$SID")"
check_eq "$T: ... counted as spazactl's and My points' attempts are" ok \
	"$(psql_val "SELECT outcome FROM referral_attempts WHERE referee_id = $N ORDER BY id DESC LIMIT 1")"

# the refusals My points says, in the caller's language
R2=$(money_customer)
CODE2=$(code_of "$R2")
check_eq "$T: a second code: already (English)" "$(continued "CON You have already entered a referral code.")" \
	"$(dial "$N" "$CODE2")"
lang "$R" zu
check_eq "$T: one's own code: own code, in isiZulu" \
	"$(printf 'CON Leyo yikhodi yakho yokudlulisela. Yinike abangane bakho.\n1. Qhubeka')" "$(dial "$R" "$CODE")"
OLD=$(money_customer)
psql_val "UPDATE customers SET created_at = now() - interval '40 days', lang = 'af' WHERE id = $OLD" >/dev/null
check_eq "$T: a number first seen 40 days ago: not new, in Afrikaans" \
	"$(printf 'CON Verwysingskodes is net vir nuwe klante.\n1. Gaan voort')" "$(dial "$OLD" "$CODE")"
psql_val "UPDATE loyalty_rules SET referral_month_cap = 1" >/dev/null
at_exit psql -X -qtAc "UPDATE loyalty_rules SET referral_month_cap = 10"
check_eq "$T: the referrer's monthly cap" \
	"$(continued "CON This code has been used too often this month. Please try again next month.")" \
	"$(dial "$(money_customer)" "$CODE")"
psql_val "UPDATE loyalty_rules SET referral_month_cap = 10" >/dev/null
Z=$(money_customer)
lang "$Z" zu
check_eq "$T: a code taken, in isiZulu" \
	"$(printf 'CON Siyabonga! Uma i-oda lakho lokuqala likhokhiwe, wena nomuntu okutshele nizothola amaphuzu.\n1. Qhubeka')" \
	"$(dial "$Z" "$CODE2")"

# ---- 2. the caller's own order; 4. anything else
X=$(money_customer)
O=$(money_order "$X" 2500)
ussd "$(t_sid)" "$(msisdn_of "$X")" "" >/dev/null
PAY="CON Pay R25.00 for order #$O with:"
check_match "$T: the caller's own order: its pay screen" "^$PAY" "$(dial "$X" "$O")"
check_eq "$T: another customer's order: not found, as if there were none" "END Order #$O not found." "$(dial "$N" "$O")"
while :; do	# six digits that are neither a referral code nor an order
	D=$((RANDOM % 900000 + 100000))
	[ "$(psql_val "SELECT count(*) FROM referral_codes WHERE code = '$D'") $(psql_val "SELECT count(*) FROM orders WHERE id = $D")" = "0 0" ] && break
done
check_eq "$T: six digits that are nothing: not found" "END Order #$D not found." "$(dial "$N" "$D")"
check_eq "$T: a cached caller's six digits cost one lookup (the question folded into it)" 1 \
	"$(asks "$X" "*120*777*$D#")"
if [ ${#O} -ne 6 ]; then
	check_eq "$T: digits no referral code can be (not six) cost none: pay asks itself" 0 "$(asks "$X" "*120*777*$O#")"
fi

# ---- the caller's order that is also a referral code, and another's: an order numbered like a
# code (far above what the sequence reaches in a test), and a customer Y whose code it is
while :; do
	BIG=$((RANDOM % 90000 + 900000))
	[ "$(psql_val "SELECT count(*) FROM referral_codes WHERE code = '$BIG'") $(psql_val "SELECT count(*) FROM orders WHERE id = $BIG")" = "0 0" ] && break
done
psql_val "INSERT INTO orders (id, customer_id, product_id, qty, unit_cents, total_cents, idem_key)
	VALUES ($BIG, $X, 997801, 1, 1200, 1200, 'it-longcode-$BIG-$$')" >/dev/null
Y=$(money_customer)
code_of "$Y" >/dev/null
psql_val "UPDATE referral_codes SET code = '$BIG' WHERE customer_id = $Y" >/dev/null
check_match "$T: the caller's order that is also a referral code: pay it (the order first)" \
	"^CON Pay R12.00 for order #$BIG with:" "$(dial "$X" "$BIG")"
check_eq "$T: ... and no code was entered for the caller" "" "$(referrer_of "$X")"
N2=$(money_customer)
r=$(dial "$N2" "$BIG")
check_eq "$T: another customer's order that is also a referral code: the code, nothing of the order" \
	"$(continued "CON $OK_TEXT")" "$r"
check_eq "$T: ... entered for the caller" "$Y" "$(referrer_of "$N2")"

# ---- 1. a campaign's dial code, before the caller's order (X's order O) and a referral code
NAME=lc-$$-$RANDOM
out=$(ctl campaign create "$NAME" --text "Bread R15: dial *120*777*$O#" --rule "spent-over 99999999" \
	--at now --code "*120*777*$O#" 2>&1)
check_match "$T: a campaign with the caller's order number as its dial code" "^campaign $NAME created" "$out"
check_match "$T: a draft campaign's code is not the campaign's yet: the caller's order" "^$PAY" "$(dial "$X" "$O")"
ctl campaign start "$NAME" >/dev/null 2>&1
# spazad reads the started campaigns' codes on the database's notification; probes until it has
# (each probe a session on the code: counted as dialled, like any)
PROBES=0
for _ in $(seq 1 50); do
	PROBES=$((PROBES + 1))
	P=$(money_customer)
	sid=$(t_sid)
	r=$(dial "$P" "$O" "" "$sid")
	if [ "$r" = "$HOME" ]; then dial "$P" "$O" "5*3" "$sid" >/dev/null; break; fi
	sleep 0.2
done
check_eq "$T: once started, the code opens the home screen" "$HOME" "$r"
SID=$(t_sid)
before=$(lookups)
check_eq "$T: the campaign's code before the caller's own order: home" "$HOME" "$(dial "$X" "$O" "" "$SID")"
check_eq "$T: ... asking the database nothing (the codes are in memory)" "$before" "$(lookups)"
r=$(dial "$X" "$O" "1*2*1*1*2*1" "$SID")
ORDER=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_match "$T: ... and the caller orders in that session" '^[0-9]+$' "$ORDER"
# a six-digit campaign code that is a referral code
R3=$(money_customer)
CODE3=$(code_of "$R3")
NAME3=lcr-$$-$RANDOM
ctl campaign create "$NAME3" --text "Milk R12" --rule "spent-over 99999999" --at 2999-01-01 \
	--code "*120*777*$CODE3#" >/dev/null 2>&1
ctl campaign start "$NAME3" >/dev/null 2>&1
N3=$(money_customer)
for _ in $(seq 1 50); do
	r=$(dial "$N3" "$CODE3" "5*3")
	[[ "$r" == *"0800 555 123"* ]] && break
	sleep 0.2
done
check_match "$T: a campaign's six-digit code that is also a referral code: the campaign's (home, then Help)" "0800 555 123" "$r"
check_eq "$T: ... no code entered" "" "$(referrer_of "$N3")"
check_eq "$T: pause it" "campaign $NAME3 paused" "$(ctl campaign pause "$NAME3" 2>&1)"
check_match "$T: a paused campaign's code is still the campaign's" "0800 555 123" "$(dial "$N3" "$CODE3" "5*3")"

# ---- the report counts the dials and the order from the dial's session
wait_for 20 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions WHERE service_code = '*120*777*$O#' AND order_id = $ORDER\")\" = 1 ]"
rep=$(ctl campaign report "$NAME" 2>&1)
check_has "$T: campaign report counts every dial since the start (the probes and the caller's)" \
	"dialled     $((PROBES + 1))" "$rep"
check_has "$T: ... and the order from the dial's session" "ordered     1" "$rep"
