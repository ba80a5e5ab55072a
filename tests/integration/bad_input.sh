#!/bin/bash
# bad_input.sh - every bad input to `tessera cert issue` gets one clear line
# naming the problem, a non-zero exit, an audit record where the request
# reached the CA, and leaves nothing half-written in the store.
. "$(dirname "$0")/lib.sh"
need openssl sqlite3 jq

base_home
H=$BASE
D=$WORK/in
mkdir "$D"

# refused DESC STATUS REGEX AUDIT HOME ARGS...: `cert issue` with ARGS fails
# as tsr_fails checks; the certificate count (JSON listing and the table,
# reservations included) is unchanged; with AUDIT=audit one new cert.issue
# record with outcome refused or failure is in the log; with AUDIT=login a
# new failure record of a token login.
refused()
{
	local desc=$1 status=$2 re=$3 audit=$4 home=$5 j0 d0 a0 a1
	shift 5
	j0=$(cert_count_json "$home")
	d0=$(cert_count_db "$home")
	a0=$(audit_count "$home")
	tsr_fails "$desc" "$status" "$re" cert issue --home "$home" "$@"
	[ "$(cert_count_json "$home")" = "$j0" ] && [ "$(cert_count_db "$home")" = "$d0" ] ||
	    fail "$desc: the certificate count changed"
	a1=$(audit_count "$home")
	if [ "$audit" = audit ]; then
		[ "$a1" -gt "$a0" ] || fail "$desc: no audit record"
		jq -e --argjson n "$a0" "$JQ_ITEMS | .[\$n:] | map(select(.action == \"cert.issue\" and
		    (.outcome == \"refused\" or .outcome == \"failure\"))) | length == 1" \
		    "$WORK/audit.json" >/dev/null ||
		    fail "$desc: no cert.issue refused/failure record among the new ones"
		pass "$desc: audited ($(jq -r "$JQ_ITEMS | last | \"\(.outcome): \(.detail)\"" \
		    "$WORK/audit.json")); nothing stored"
	elif [ "$audit" = login ]; then
		jq -e --argjson n "$a0" "$JQ_ITEMS | .[\$n:] | map(select(.outcome == \"failure\" and
		    ((.action + \" \" + .detail) | test(\"login\"; \"i\")))) | length == 1" \
		    "$WORK/audit.json" >/dev/null || fail "$desc: no token login failure among the new records"
		pass "$desc: audited ($(jq -r "$JQ_ITEMS | last | \"\(.action) \(.outcome): \(.detail)\"" \
		    "$WORK/audit.json")); nothing stored"
	else
		pass "$desc: nothing stored"
	fi
}

# A request that is issued, and the parts the cases below spoil one at a time.
section "a good request is issued"
product_info "$H" tls-server
make_key ec-p256 "$D/key.pem"
make_csr "$D/key.pem" "$D/good.pem" /CN=good
openssl req -in "$D/good.pem" -outform DER -out "$D/good.der"
GOOD=(--product tls-server --subject CN=www.example.com,O=Test,C=US --san dns:www.example.com)
tsr_ok "control: the good PEM request is issued" cert issue --home "$H" "${GOOD[@]}" \
    --csr "$D/good.pem"
tsr_ok "control: the good DER request is issued" cert issue --home "$H" "${GOOD[@]}" \
    --csr "$D/good.der"
# The tls-server product and a good CSR: subject and SANs vary below.
TLS=(--product tls-server --csr "$D/good.pem")

section "bad CSRs"
# The signature BIT STRING ends the DER; its last byte is the last byte of s
# (ECDSA), so flipping it keeps the DER well-formed and breaks the signature.
cp "$D/good.der" "$D/badsig.der"
size=$(stat -c %s "$D/badsig.der")
last=$(od -An -tu1 -j $((size - 1)) "$D/badsig.der" | tr -d ' ')
printf "$(printf '\\%03o' $((last ^ 1)))" |
    dd of="$D/badsig.der" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
check "the corrupted CSR is well-formed DER" openssl asn1parse -inform DER -in "$D/badsig.der"
# (openssl req -verify exits 0 either way in OpenSSL 3.0; its message tells.)
run openssl req -inform DER -in "$D/badsig.der" -verify -noout
grep -q 'verify failure' "$WORK/err" || { show_output; fail "openssl finds the signature good"; }
pass "openssl agrees the signature is bad"
refused "CSR with a bad signature" 65 'signature' audit "$H" "${GOOD[@]}" --csr "$D/badsig.der"

for kt in rsa-1024 secp256k1 ec-p521 ed25519; do
	make_key "$kt" "$D/$kt.key"
	make_csr "$D/$kt.key" "$D/$kt.csr" /CN=x
	case $kt in
	rsa-1024) re='1024' ;;
	secp256k1) re='secp256k1' ;;
	ec-p521) re='P-521|secp521r1' ;;
	ed25519) re='Ed25519' ;;
	*) re=. ;;
	esac
	refused "CSR with a $kt key" 65 "$re" audit "$H" "${GOOD[@]}" --csr "$D/$kt.csr"
done

cp "$D/good.der" "$D/trailing.der" && printf '\0\0junk' >>"$D/trailing.der"
refused "DER with trailing bytes" 65 'trailing|extra|bytes|after' audit "$H" "${GOOD[@]}" \
    --csr "$D/trailing.der"
head -c $(($(stat -c %s "$D/good.der") - 9)) "$D/good.der" >"$D/truncated.der"
refused "truncated DER" 65 'truncat|malformed|parse|DER|too short|CSR' audit "$H" "${GOOD[@]}" \
    --csr "$D/truncated.der"
cat "$D/good.pem" "$D/good.pem" >"$D/two.pem"
refused "PEM with two requests" 65 'one|block|trailing|PEM|CSR' audit "$H" "${GOOD[@]}" \
    --csr "$D/two.pem"
{ cat "$D/good.pem"; echo "some trailing text"; } >"$D/pemtail.pem"
refused "PEM with trailing text" 65 'trailing|PEM|CSR' audit "$H" "${GOOD[@]}" \
    --csr "$D/pemtail.pem"
head -c 600 /dev/urandom >"$D/random.bin"
refused "random bytes" 65 'CSR|PEM|DER|parse|malformed' audit "$H" "${GOOD[@]}" \
    --csr "$D/random.bin"
: >"$D/empty.pem"
refused "an empty file" 65 'empty|CSR|PEM|DER|parse' audit "$H" "${GOOD[@]}" --csr "$D/empty.pem"
cp "$H/certs/issuing.pem" "$D/cert.pem"
refused "a certificate instead of a CSR" 65 'CSR|CERTIFICATE REQUEST|request' audit "$H" \
    "${GOOD[@]}" \
    --csr "$D/cert.pem"
make_csr "$D/key.pem" "$D/big.pem" /CN=big \
    -addext "1.2.3.4=ASN1:UTF8String:$(head -c 70000 /dev/zero | tr '\0' a)"
[ "$(stat -c %s "$D/big.pem")" -gt 65536 ] || fail "the oversize CSR is not over 64 KiB"
check "the oversize CSR is itself valid" openssl req -in "$D/big.pem" -verify -noout
grep -q 'verify OK' "$WORK/err" || fail "openssl finds the oversize CSR's signature bad"
refused "a CSR over 64 KiB" 65 'large|size|64|65536|KiB|bytes' audit "$H" "${GOOD[@]}" \
    --csr "$D/big.pem"
refused "a CSR file that does not exist" 66 'no such|not found|nope' no "$H" "${GOOD[@]}" \
    --csr "$D/nope.pem"

section "bad requests"
refused "no --product" 64 'product' no "$H" --csr "$D/good.pem" \
    --subject CN=www.example.com,C=US --san dns:www.example.com
refused "no --csr" 64 'csr' no "$H" "${GOOD[@]}"
refused "no --subject" 64 'subject' no "$H" --product tls-server --csr "$D/good.pem" \
    --san dns:www.example.com
refused "an unknown product" 66 'no-such-product' audit "$H" --product no-such-product \
    --csr "$D/good.pem" --subject CN=x,C=US
refused "tls-server without a SAN" 65 'SAN|subjectAltName|alternative' audit "$H" "${TLS[@]}" \
    --subject CN=www.example.com,C=US
refused "tls-server with a CN that is not a SAN" 65 'CN|common name' audit "$H" "${TLS[@]}" \
    --subject CN=other.example.com,C=US --san dns:www.example.com

# Cases that depend on a product's policy, found from `product show`.
for p in epcs identity smime code-signing; do
	product_info "$H" "$p"
	make_request "$p"
	args=()
	for s in "${SANS[@]}"; do args+=(--san "$s"); done
	if [ "$P_STORAGE" = hardware ]; then
		refused "$p: a hardware product without --hardware-verified-by" 65 'hardware' \
		    audit "$H" --product "$p" --csr "$D/good.pem" --subject "$SUBJECT" "${args[@]}"
	fi
	args+=("${HW[@]}")
	tsr_ok "control: $p accepts '$SUBJECT' ${SANS[*]}" cert issue --home "$H" --product "$p" \
	    --csr "$D/good.pem" --subject "$SUBJECT" "${args[@]}"
	for a in OU L serialNumber DC UID; do
		in_list "$a" "$P_ALLOWED" && continue
		refused "$p: subject with $a, which $p does not allow" 65 "$a" audit "$H" \
		    --product "$p" --csr "$D/good.pem" --subject "${SUBJECT},$a=Extra" "${args[@]}"
		break
	done
	for a in $P_REQ; do
		[ "$a" = CN ] && continue
		sub=$(sed -E "s/(^|,)$a=[^,]*//; s/^,//" <<<"$SUBJECT")
		refused "$p: subject without the required $a" 65 "$a" audit "$H" --product "$p" \
		    --csr "$D/good.pem" --subject "$sub" "${args[@]}"
		break
	done
	for t in ip uri dns email; do
		in_list "$t" "$P_SANS" && continue
		case $t in
		ip) v=ip:192.0.2.7 ;;
		uri) v=uri:https://example.com/x ;;
		dns) v=dns:host.example.com ;;
		email) v=email:someone@example.com ;;
		*) ;;
		esac
		refused "$p: a $t SAN, which $p does not allow" 65 "$t|SAN" audit "$H" --product "$p" \
		    --csr "$D/good.pem" --subject "$SUBJECT" "${args[@]}" --san "$v"
		break
	done
	for kt in ec-p256 ec-p384 rsa-2048 rsa-3072 rsa-4096; do
		in_list "$kt" "$P_KEYS" && continue
		make_key "$kt" "$D/$kt.key"
		make_csr "$D/$kt.key" "$D/$kt.csr" /CN=x
		refused "$p: a $kt key, which $p does not allow" 65 "$kt|key|RSA|P-|EC" audit "$H" \
		    --product "$p" --csr "$D/$kt.csr" --subject "$SUBJECT" "${args[@]}"
		break
	done
done

section "malformed subjects and SANs"
for dn in 'CN=' 'XX=foo,C=US' 'CN=a+O=b,C=US' 'CN=www.example.com,C=USA' \
    'CN=www.example.com,CN=www.example.com,C=US' 'CN=www.example.com,,C=US' \
    "CN=$(head -c 200 /dev/zero | tr '\0' a).example.com,C=US" $'CN=\xff\xfe,C=US'; do
	refused "subject '${dn:0:40}'" 65 \
	    'subject|DN|name|CN|XX|C|attribute|UTF|long|empty|twice|dup|multi' \
	    audit "$H" "${TLS[@]}" --subject "$dn" --san dns:www.example.com
done
for san in 'dns:*.example.com' 'dns:localhost' 'dns:www.example.com.' 'dns:-bad-.example.com' \
    'email:no-at-sign' 'ip:999.1.1.1' 'foo:bar' 'uri:not a uri'; do
	refused "SAN '$san'" 65 'SAN|dns|email|ip|uri|name|type|foo|wildcard|label' audit "$H" \
	    "${TLS[@]}" --subject CN=www.example.com,C=US --san "$san"
done

section "output that cannot be written"
refused "--out into a missing directory" any 'out|no such|nodir' any "$H" "${GOOD[@]}" \
    --csr "$D/good.pem" --out "$WORK/nodir/cert.pem"
[ ! -e "$WORK/nodir" ] || fail "--out made a directory"

section "the CA home itself"
HP=$WORK/pin-home
copy_home "$H" "$HP"
tsr_ok "control: the copied home issues" cert issue --home "$HP" "${GOOD[@]}" --csr "$D/good.pem"
printf 'not-the-pin-1234\n' >"$HP/token.pin"
refused "a wrong token PIN" 77 'PIN' login "$HP" "${GOOD[@]}" --csr "$D/good.pem"
db_files DBF "$HP"
for f in "${DBF[@]}"; do
	grep -aq 'not-the-pin-1234' "$f" && fail "the wrong PIN is in the database ($(basename "$f"))"
done
pass "the wrong PIN is not written to the database"
tsr_ok "the audit chain verifies after the failures" audit verify --home "$HP"

tsr_fails "a home that does not exist" 66 'home|no such|not found|nohome' cert issue \
    --home "$WORK/nohome" "${GOOD[@]}" --csr "$D/good.pem"
[ ! -e "$WORK/nohome" ] || fail "a refused command created the home"
HC=$WORK/conf-home
copy_home "$H" "$HC"
n=$(cert_count_db "$HC")
cp "$HC/tessera.conf" "$WORK/tessera.conf.good"
printf 'this is [not a config\n\1\2 = = =\n' >"$HC/tessera.conf"
tsr_fails "a garbage config file" 78 'config|line|tessera.conf' cert issue --home "$HC" \
    "${GOOD[@]}" --csr "$D/good.pem"
{ cat "$WORK/tessera.conf.good"; printf '\n[ca]\nno_such_key = 1\n'; } >"$HC/tessera.conf"
tsr_fails "a config with a second [ca] section" 78 'line|ca|duplicate|section' cert issue \
    --home "$HC" "${GOOD[@]}" --csr "$D/good.pem"
sed '/^\[ca\]/a no_such_key = 1' "$WORK/tessera.conf.good" >"$HC/tessera.conf"
tsr_fails "a config with an unknown key" 78 'no_such_key' cert issue --home "$HC" \
    "${GOOD[@]}" --csr "$D/good.pem"
expect "the bad configs stored nothing" "$(cert_count_db "$HC")" "$n"
rm "$HC/tessera.conf"
tsr_fails "a home without tessera.conf" any 'tessera.conf|config|home|no such|not found' \
    cert issue --home "$HC" "${GOOD[@]}" --csr "$D/good.pem"

section "bad arguments to the other commands"
tsr_fails "cert issue with an unknown option" 64 'bogus-option' cert issue --home "$H" \
    "${GOOD[@]}" --csr "$D/good.pem" --bogus-option
tsr_fails "an unknown command" 64 'frob' frob --home "$H"
tsr_fails "cert show of a serial that is not hex" 64 'hex|serial' cert show --home "$H" zz-not-hex
tsr_fails "cert show of a serial over 20 octets" 64 '20|long|serial' cert show --home "$H" \
    "$(printf 'a%.0s' $(seq 42))"
tsr_fails "cert list --expires-before with a bad date" 64 'date|expires' cert list --home "$H" \
    --expires-before 2026-13-45
tsr_fails "cert list --limit -1" 64 'limit' cert list --home "$H" --limit -1
tsr_fails "product show of an unknown product" 66 'nope' product show --home "$H" nope
tsr_fails "audit list --limit x" 64 'limit' audit list --home "$H" --limit x

section "the audit chain after all refusals"
tsr_ok "tessera audit verify" audit verify --home "$H"

echo
echo "bad_input.sh: all checks passed"
