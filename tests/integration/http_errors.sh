# HTTP errors of the gateway: what an aggregator sees when it gets the request wrong.
source "$(dirname "$0")/lib.sh"

P=$(t_phone 14)
# http METHOD PATH [curl args...]: "STATUS|BODY"; the content type is left in $T_TMP/ctype
http() {
	local m=$1 p=$2; shift 2
	curl -sS --max-time 20 --noproxy '*' -X "$m" -o "$T_TMP/body" -D "$T_TMP/head" \
		-w '%{http_code}' "$@" "$SPAZA_URL$p"
	printf '|%s' "$(cat "$T_TMP/body")"
}
status() { echo "${1%%|*}"; }
body() { echo "${1#*|}"; }
ctype() { sed -n 's/^[Cc]ontent-[Tt]ype: *\([^;\r]*\).*/\1/p' "$T_TMP/head"; }

r=$(http GET /health)
check_eq "GET /health answers 200 while the database is up" 200 "$(status "$r")"
check_eq "GET /health says ok" "ok" "$(body "$r")"

r=$(http GET /ussd/at)
check_eq "GET /ussd/at (wrong method) answers 405" 405 "$(status "$r")"
r=$(http PUT /ussd/at --data "sessionId=h1&serviceCode=*120*777%23&phoneNumber=$P&text=")
check_eq "PUT /ussd/at (wrong method) answers 405" 405 "$(status "$r")"
r=$(http POST /health)
check_eq "POST /health (wrong method) answers 405" 405 "$(status "$r")"

r=$(http POST /ussd/nowhere --data "sessionId=h1&serviceCode=*120*777%23&phoneNumber=$P&text=")
check_eq "POST to an unknown path answers 404" 404 "$(status "$r")"
r=$(http GET /)
check_eq "GET / (unknown path) answers 404" 404 "$(status "$r")"
r=$(http GET /ussd/at/)
check_eq "a path that only starts like /ussd/at answers 404" 404 "$(status "$r")"

# A body over "http max-body" (default 4096) is refused as a whole with 413.
big=$(head -c 6000 /dev/zero | tr '\0' 'a')
r=$(http POST /ussd/at --data "sessionId=h2&serviceCode=*120*777%23&phoneNumber=$P&text=&pad=$big")
check_eq "an oversized body (6000 bytes) answers 413" 413 "$(status "$r")"
big=$(head -c 100000 /dev/zero | tr '\0' 'a')
r=$(http POST /ussd/at --data "sessionId=h2&serviceCode=*120*777%23&phoneNumber=$P&text=$big")
check_eq "a 100 kB body answers 413" 413 "$(status "$r")"
r=$(http GET /health)
check_eq "the daemon still answers after oversized bodies" 200 "$(status "$r")"

# Missing or empty fields: 400 with the reason in the body, and no session.
for f in sessionId serviceCode phoneNumber text; do
	form=""
	for g in sessionId serviceCode phoneNumber text; do
		[ "$g" = "$f" ] && continue
		case $g in
		sessionId) v=h3-$f ;; serviceCode) v='*120*777%23' ;; phoneNumber) v=$P ;; text) v='' ;;
		esac
		form+="${form:+&}$g=$v"
	done
	r=$(http POST /ussd/at --data "$form")
	check_eq "a request without $f answers 400" 400 "$(status "$r")"
	check_eq "the 400 without $f names the missing field" "missing field $f" "$(body "$r")"
done
r=$(http POST /ussd/at --data "")
check_eq "an empty body answers 400" 400 "$(status "$r")"
check_match "the 400 for an empty body names a missing field" '^missing field ' "$(body "$r")"
r=$(http POST /ussd/at --data "sessionId=h4&serviceCode=&phoneNumber=$P&text=")
check_eq "an empty serviceCode answers 400 with the reason" "400|empty serviceCode" "$(status "$r")|$(body "$r")"
r=$(http POST /ussd/at --data "sessionId=h4&serviceCode=*120*777%23&phoneNumber=&text=")
check_eq "an empty phoneNumber answers 400 with the reason" '400|bad phoneNumber ""' "$(status "$r")|$(body "$r")"
long=$(head -c 1500 /dev/zero | tr '\0' '1')
r=$(http POST /ussd/at --data "sessionId=h4&serviceCode=*120*777%23&phoneNumber=$P&text=$long")
check_eq "a text longer than the field allows answers 400 with the reason" "400|text too long" "$(status "$r")|$(body "$r")"
# none of these made a customer of the phone number
n=$(psql_val "SELECT count(*) FROM customers WHERE msisdn = '$(e164 "$P")'")
check_eq "malformed requests create no customer" 0 "$n"

# networkCode is optional; fields the aggregator adds are ignored
r=$(http POST /ussd/at --data "sessionId=$(t_sid)&serviceCode=*120*777%23&phoneNumber=$P&text=&channel=x&hash=1")
check_eq "a request without networkCode, with extra fields, gets the main menu" \
	"200|text/plain|CON Welcome to Spaza" "$(status "$r")|$(ctype)|$(body "$r" | head -1)"
check_match "the reply carries Content-Length (no chunking)" $'[Cc]ontent-[Ll]ength: [0-9]+' "$(cat "$T_TMP/head")"
r=$(http POST /health)
check_eq "the daemon answers after all of the above" 405 "$(status "$r")"
r=$(http GET /health)
check_eq "GET /health still 200 at the end" 200 "$(status "$r")"
