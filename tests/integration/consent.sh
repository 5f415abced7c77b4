# Marketing consent on USSD (My account > My points > Offers by SMS; doc/customers.md): the
# screen says whether promotions by SMS are on, and switches them off and on; each change is
# confirmed on screen, recorded like SMS STOP/START (opt_out, when, source ussd), on the
# timeline and in the profile (`spazactl customer show`); the same choice twice (two sessions
# open at once) is one change; the screen reads the record, so a change staff made shows at
# once. Campaigns skipping a USSD opt-out: campaign.sh. The screens in three languages:
# tests/transcripts/{en,zu,af}_offers.ussd.
source "$(dirname "$0")/lib.sh"
T=consent

P=$(t_phone 32)
E=$(e164 "$P")
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
jq_of() { ctl customer show "$E" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
events() { psql_val "SELECT count(*) FROM customer_profile_events e JOIN customers c ON c.id = e.customer_id
	WHERE c.msisdn = '$E' AND e.kind = 'consent'"; }
ON=$'CON Offers by SMS: on. We SMS you our specials now and then.\n1. Switch off\n0. Back'
OFF=$'CON Offers by SMS: off. Order and payment SMS still come.\n1. Switch on\n0. Back'

check_eq "$T: a new customer takes offers by SMS: the screen says on" "$ON" "$(ussd "$(t_sid)" "$P" "7*2*2")"
check_eq "$T: switched off, confirmed on screen" "END Done: no more offers by SMS. Order and payment SMS still come." \
	"$(ussd "$(t_sid)" "$P" "7*2*2*1")"
check_eq "$T: ... recorded as STOP records it: opted out, now, source ussd" "t|t|ussd" \
	"$(psql_val "SELECT opt_out, opt_out_at > now() - interval '1 minute', opt_out_source FROM customers WHERE msisdn = '$E'")"
out=$(ctl customer show "$E")
check_match "$T: ... customer show's header says so" "marketing opted out since [0-9-]+ [0-9:]+ \\(ussd\\)" "$out"
check_match "$T: ... and its timeline has the change, source ussd" \
	"profile_consent +[0-9]+ +marketing consent withdrawn \\(ussd\\)" "$out"
check_eq "$T: ... the profile: no marketing, from ussd" "False ussd" \
	"$(jq_of "d['profile']['consent']['marketing'], d['profile']['consent']['source']")"
check_eq "$T: the screen says off now" "$OFF" "$(ussd "$(t_sid)" "$P" "7*2*2")"
check_eq "$T: switched on again, confirmed" "END Done: we will SMS you our offers. Reply STOP to any of them to stop." \
	"$(ussd "$(t_sid)" "$P" "7*2*2*1")"
check_eq "$T: ... opted in" "f" "$(psql_val "SELECT opt_out FROM customers WHERE msisdn = '$E'")"
check_eq "$T: the history keeps both, in order, from ussd" "withdrawn/ussd given/ussd" \
	"$(jq_of "' '.join(h['consent'] + '/' + h['source'] for h in d['profile']['consent']['history'])")"
check_match "$T: the timeline has the consent given" "profile_consent +[0-9]+ +marketing consent given \\(ussd\\)" \
	"$(ctl customer show "$E")"

# two sessions show "on" at once; both switch off: one change
S1=$(t_sid) S2=$(t_sid)
ussd "$S1" "$P" "7*2*2" >/dev/null
ussd "$S2" "$P" "7*2*2" >/dev/null
before=$(events)
ussd "$S1" "$P" "7*2*2*1" >/dev/null
check_eq "$T: the second session's switch-off, the same choice, is confirmed too" \
	"END Done: no more offers by SMS. Order and payment SMS still come." "$(ussd "$S2" "$P" "7*2*2*1")"
check_eq "$T: ... but it is one change on the timeline" "$((before + 1))" "$(events)"

# staff give consent back: the screen reads the record, not a copy
ctl customer set "$E" consent=yes >/dev/null
check_eq "$T: a change staff made shows on the screen at once" "$ON" "$(ussd "$(t_sid)" "$P" "7*2*2")"
check_eq "$T: back from the screen is My points" \
	$'CON You have 0 loyalty points. You earn points on every paid order.\n1. Enter a referral code\n2. Offers by SMS\n0. Back' \
	"$(ussd "$(t_sid)" "$P" "7*2*2*0")"
