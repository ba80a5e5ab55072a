#!/bin/bash
# issue.sh - `tessera cert issue` for every product the CA offers, each
# certificate validated by three independent implementations (OpenSSL,
# GnuTLS certtool, NSS vfychain) and inspected against its product: subject,
# extensions, key, serial, URLs; nothing taken from the CSR but its key.
. "$(dirname "$0")/lib.sh"
need openssl certtool certutil vfychain jq

DAY=86400
OID_SERVER=1.3.6.1.5.5.7.3.1 OID_CLIENT=1.3.6.1.5.5.7.3.2 OID_CODE=1.3.6.1.5.5.7.3.3
OID_EMAIL=1.3.6.1.5.5.7.3.4

# pick_key_type INDEX: vary leaf key types across products (P-256, RSA-2048,
# P-384, RSA-3072), taking the first the product allows from INDEX on.
pick_key_type()
{
	local prefs=(ec-p256 rsa-2048 ec-p384 rsa-3072 rsa-4096) i t
	for ((i = 0; i < ${#prefs[@]}; i++)); do
		t=${prefs[$((($1 + i) % ${#prefs[@]}))]}
		in_list "$t" "$P_KEYS" && { echo "$t"; return; }
	done
	fail "no key type among ${prefs[*]} is allowed: $P_KEYS"
}

# ------------------------------------------------------------------ verifiers
# nss_db HOME DB: an NSS database trusting HOME's root.  The issuing CA is
# marked a valid (not trusted) CA for every usage: NSS wants that for object
# signing when a CA certificate has no Netscape cert type; trust still has
# to come from the root.
nss_db()
{
	mkdir "$2"
	certutil -N --empty-password -d "sql:$2"
	certutil -A -d "sql:$2" -n root -t CT,C,C -i "$1/certs/root.pem"
	certutil -A -d "sql:$2" -n issuing -t c,c,c -i "$1/certs/issuing.pem"
}

# verify_three DESC HOME NSSDB LEAF: the leaf validates in OpenSSL, GnuTLS
# and NSS for every usage its EKUs name, and for its names and policies.
verify_three()
{
	local desc=$1 db=$3 leaf=$4 root=$2/certs/root.pem iss=$2/certs/issuing.pem
	local names=() ekus pol n oid purpose usage usages=0 host email
	ekus=$(ext "$leaf" extendedKeyUsage | tail -n +2 | tr ',' '\n' | sed 's/^ *//')
	pol=$(ext "$leaf" certificatePolicies | sed -n 's/^ *Policy: //p' | head -1)
	host=$(ext "$leaf" subjectAltName | { grep -o 'DNS:[^,]*' || true; } | head -1 | cut -d: -f2)
	email=$(ext "$leaf" subjectAltName | { grep -o 'email:[^,]*' || true; } | head -1 | cut -d: -f2)

	# OpenSSL: strict X.509 parsing, the policy required, one run per purpose.
	check "$desc: openssl verify (policy $pol required)" openssl verify -x509_strict \
	    -CAfile "$root" -untrusted "$iss" -policy "$pol" -explicit_policy "$leaf"
	while read -r n; do
		case $n in
		"TLS Web Server Authentication") purpose=sslserver ;;
		"TLS Web Client Authentication") purpose=sslclient ;;
		"E-mail Protection") purpose=smimesign ;;
		*) continue ;;
		esac
		names=()
		[ $purpose = sslserver ] && [ -n "$host" ] && names=(-verify_hostname "$host")
		[ $purpose = smimesign ] && [ -n "$email" ] && names=(-verify_email "$email")
		check "$desc: openssl verify -purpose $purpose ${names[*]}" openssl verify \
		    -x509_strict -CAfile "$root" -untrusted "$iss" -purpose $purpose "${names[@]}" "$leaf"
	done <<<"$ekus"

	# GnuTLS: the chain as given, then against the root for each EKU OID.
	cat "$leaf" "$iss" "$root" >"$WORK/chain3.pem"
	check "$desc: certtool --verify-chain" certtool --verify-chain --verify-profile medium \
	    --infile "$WORK/chain3.pem"
	cat "$leaf" "$iss" >"$WORK/chain2.pem"
	names=()
	[ -n "$host" ] && names+=(--verify-hostname "$host")
	[ -n "$email" ] && names+=(--verify-email "$email")
	for oid in $P_EKU; do
		check "$desc: certtool --verify --verify-purpose $oid ${names[*]}" certtool --verify \
		    --verify-profile medium --load-ca-certificate "$root" --infile "$WORK/chain2.pem" \
		    --verify-purpose "$oid" "${names[@]}"
		grep -q 'Chain verification output: Verified' "$WORK/out" ||
		    fail "$desc: certtool did not say Verified"
	done

	# NSS (libpkix, vfychain -pp): one run per usage the EKUs allow.
	openssl x509 -in "$leaf" -outform DER -out "$WORK/leaf.der"
	for oid in $P_EKU; do
		case $oid in
		"$OID_SERVER") usage=1 ;;
		"$OID_CLIENT") usage=0 ;;
		"$OID_EMAIL") usage=4 ;;
		"$OID_CODE") usage=6 ;;
		*) continue ;;
		esac
		usages=$((usages + 1))
		run vfychain -d "sql:$db" -pp -u $usage "$WORK/leaf.der"
		if [ "$RC" -ne 0 ] || ! cat "$WORK/out" "$WORK/err" | grep -q 'Chain is good'; then
			# NSS's classic verifier (CERT_CheckKeyUsage) still wants
			# keyEncipherment in an RSA TLS server certificate, for TLS-RSA
			# key transport.  Tessera's authentication profile is
			# digitalSignature only (BR 7.1.2.7.11 allows that; OpenSSL,
			# GnuTLS and Firefox's mozilla::pkix accept it), so here NSS's
			# one objection may be exactly that, on the leaf and nowhere else.
			cat "$WORK/out" "$WORK/err" >"$WORK/nss.txt"
			if [ $usage = 1 ] && openssl x509 -in "$leaf" -noout -text |
			    grep -q rsaEncryption && [ "$(grep -c 'ERROR' "$WORK/nss.txt")" -eq 1 ] &&
			    grep -q 'ERROR -8102:' "$WORK/nss.txt" && grep -q '^CERT 0\.' "$WORK/nss.txt" &&
			    ! grep -q '^CERT [1-9]' "$WORK/nss.txt"; then
				pass "$desc: NSS vfychain -pp -u 1 builds the chain; its only objection" \
				    "is the missing keyEncipherment NSS wants for RSA TLS servers"
				continue
			fi
			show_output
			fail "$desc: NSS vfychain -pp -u $usage: the chain is bad"
		fi
		pass "$desc: NSS vfychain -pp -u $usage"
	done
	[ $usages -gt 0 ] && return
	# NSS has no usage for these EKUs (documentSigning, RFC 9336): the best
	# it can say is that the chain builds to the trusted root and that the
	# only objection is the leaf's EKU (-8101 on CERT 0), no issuer, trust,
	# validity or extension problem anywhere in the chain.
	run vfychain -d "sql:$db" -pp -u 4 "$WORK/leaf.der"
	cat "$WORK/out" "$WORK/err" >"$WORK/nss.txt"
	if [ "$(grep -c 'ERROR' "$WORK/nss.txt")" -ne 1 ] || ! grep -q '^CERT 0\.' "$WORK/nss.txt" ||
	    grep -q '^CERT [1-9]' "$WORK/nss.txt" || ! grep -q 'ERROR -8101:' "$WORK/nss.txt"; then
		show_output
		fail "$desc: NSS finds more wrong than the EKU NSS does not know"
	fi
	pass "$desc: NSS vfychain -pp builds the chain to the root; its only objection is" \
	    "that it has no usage for EKU $P_EKU"
}

# ------------------------------------------------------------------ inspection
# inspect DESC LEAF CSR: what the certificate must (not) contain.
inspect()
{
	local desc=$1 leaf=$2 csr=$3 want got s
	openssl x509 -in "$leaf" -noout -text >"$WORK/text"

	expect "$desc: the public key is the CSR's" "$(openssl x509 -in "$leaf" -noout -pubkey)" \
	    "$(openssl req -in "$csr" -noout -pubkey)"
	expect "$desc: the subject is exactly the one given" \
	    "$(openssl x509 -in "$leaf" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" \
	    "$SUBJECT"
	file_lacks "$desc: nothing from the CSR's subject, SANs or extensions" "$WORK/text" \
	    'Evil|evil\.example|1\.2\.3\.4\.5\.6\.7\.8|bogus-extension'
	ext "$leaf" basicConstraints >"$WORK/e"
	file_lacks "$desc: not a CA (the CSR asked for CA:TRUE)" "$WORK/e" 'CA:TRUE'

	ext "$leaf" keyUsage >"$WORK/e"
	file_has "$desc: keyUsage is critical" "$WORK/e" 'Key Usage: critical'
	case $P_CLASS in
	signing) want='Digital Signature, Non Repudiation' ;;
	authentication) want='Digital Signature' ;;
	*) fail "$desc: unknown product class $P_CLASS" ;;
	esac
	got=$(sed -n '2s/^ *//p' "$WORK/e")
	expect "$desc: keyUsage for class $P_CLASS" "$got" "$want"

	want=$(for s in $P_EKU; do oid_name "$s"; done | sort)
	got=$(ext "$leaf" extendedKeyUsage | tail -n +2 | tr ',' '\n' | sed 's/^ *//' | sort)
	expect "$desc: extendedKeyUsage is the product's ($(echo $P_EKU))" "$got" "$want"
	ext "$leaf" extendedKeyUsage >"$WORK/e"
	file_lacks "$desc: no anyExtendedKeyUsage" "$WORK/e" 'Any Extended Key Usage'

	got=$(ext "$leaf" certificatePolicies | sed -n 's/^ *Policy: //p' | sort)
	expect "$desc: certificatePolicies are the product's" "$got" "$(sort <<<"$P_POLICIES")"

	ext "$leaf" authorityInfoAccess >"$WORK/e"
	file_has "$desc: AIA OCSP URL" "$WORK/e" "OCSP - URI:$PUBLIC_URL/"
	file_has "$desc: AIA caIssuers URL" "$WORK/e" "CA Issuers - URI:$PUBLIC_URL/"
	ext "$leaf" crlDistributionPoints >"$WORK/e"
	file_has "$desc: CRL distribution point URL" "$WORK/e" "URI:$PUBLIC_URL/"

	want=$(for s in "${SANS[@]}"; do
		case $s in
		dns:*) echo "DNS:${s#dns:}" ;;
		email:*) echo "email:${s#email:}" ;;
		ip:*) echo "IP Address:${s#ip:}" ;;
		uri:*) echo "URI:${s#uri:}" ;;
		*) ;;
		esac
	done | sort)
	got=$(ext "$leaf" subjectAltName | tail -n +2 | tr ',' '\n' | sed 's/^ *//' | sort)
	expect "$desc: subjectAltName is exactly the SANs given" "$got" "$want"

	expect "$desc: AKI = issuing CA's SKI" "$(aki "$leaf")" "$ISSUING_SKI"
	file_has "$desc: signed by the issuing CA's key (ecdsa-with-SHA384)" "$WORK/text" \
	    'Signature Algorithm: ecdsa-with-SHA384'
	file_has "$desc: X.509 v3" "$WORK/text" 'Version: 3 \(0x2\)'

	s=$(cert_serial "$leaf")
	[ "${#s}" -ge 16 ] || fail "$desc: serial $s has fewer than 64 bits"
	pass "$desc: serial $s has $((${#s} * 4)) bits"
	s=$(cert_seconds "$leaf")
	[ $((s - P_VALIDITY * DAY)) -le $DAY ] && [ $((P_VALIDITY * DAY - s)) -le $DAY ] ||
	    fail "$desc: valid $((s / DAY)) days, the product says $P_VALIDITY"
	pass "$desc: valid $P_VALIDITY days as the product says"
	check "$desc: valid now" openssl x509 -in "$leaf" -noout -checkend 0
}

# ------------------------------------------------------------------ the run
section "a CA home and its products"
base_home
H=$BASE
PUBLIC_URL=http://localhost:8080
ISSUING_SKI=$(ski "$H/certs/issuing.pem")
nss_db "$H" "$WORK/nss"
pass "NSS database trusting the root"
tsr_ok "tessera product list" product list --home "$H"
tsr_ok "tessera product list --json" product list --home "$H" --json
PRODUCTS=$(jq -r "$JQ_ITEMS | .[].name" "$WORK/out")
expect "the default products" "$(sort <<<"$PRODUCTS" | tr '\n' ' ')" \
    "code-signing device document-signing eca-medium epcs identity smime tls-server "
for p in $PRODUCTS; do
	tsr_ok "product show $p" product show --home "$H" "$p"
done

i=0
ISSUED=()
for p in $PRODUCTS; do
	section "product $p"
	product_info "$H" "$p"
	make_request "$p"
	kt=$(pick_key_type $i)
	i=$((i + 1))
	d=$WORK/$p
	mkdir "$d"
	make_key "$kt" "$d/key.pem"
	make_csr "$d/key.pem" "$d/csr.pem" "/CN=Evil CSR Subject/O=Evil Corp/C=ZZ" \
	    -addext "subjectAltName=DNS:evil.example,email:evil@evil.example" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "1.2.3.4.5.6.7.8=ASN1:UTF8String:bogus-extension"
	args=("${HW[@]}")
	for s in "${SANS[@]}"; do args+=(--san "$s"); done
	tsr_ok "issue $p: $kt key, subject '$SUBJECT', ${SANS[*]:-no SAN}" cert issue --home "$H" \
	    --product "$p" --csr "$d/csr.pem" --subject "$SUBJECT" "${args[@]}" --out "$d/cert.pem"
	expect "$p: --out holds one certificate" "$(grep -c 'BEGIN CERTIFICATE' "$d/cert.pem")" 1
	verify_three "$p" "$H" "$WORK/nss" "$d/cert.pem"
	inspect "$p" "$d/cert.pem" "$d/csr.pem"

	serial=$(cert_serial "$d/cert.pem")
	ISSUED+=("$serial")
	tsr_ok "$p: cert show $serial" cert show --home "$H" "$serial"
	grep -qF "${SUBJECT%%,*}" "$WORK/out" || fail "$p: cert show does not show the subject"
	tsr_ok "$p: cert show $serial --pem" cert show --home "$H" "$serial" --pem
	expect "$p: cert show --pem is the issued certificate" "$(cat "$WORK/out")" "$(cat "$d/cert.pem")"
	tsr_ok "$p: cert show $serial --json" cert show --home "$H" "$serial" --json
	expect "$p: cert show --json names the product" "$(jq -r .product "$WORK/out")" "$p"
	tsr_ok "$p: cert list --product $p --json" cert list --home "$H" --product "$p" --json
	jq -e --arg s "$serial" "$JQ_ITEMS | map(.serial | ascii_downcase | ltrimstr(\"0\")) |
	    index(\$s) != null" "$WORK/out" >/dev/null ||
	    fail "$p: cert list --product does not list $serial"
	expect "$p: cert list --product lists only $p" \
	    "$(jq -r "$JQ_ITEMS | map(.product) | unique | join(\",\")" "$WORK/out")" "$p"
done

section "issuance to stdout, TESSERA_HOME, filters"
p=tls-server
product_info "$H" $p
make_request $p
TESSERA_HOME=$H tsr cert issue --product $p --csr "$WORK/$p/csr.pem" --subject "$SUBJECT" \
    --san "dns:$p.example.com"
[ "$RC" -eq 0 ] || { show_output; fail "TESSERA_HOME=... cert issue (PEM to stdout) exited $RC"; }
cp "$WORK/out" "$WORK/stdout.pem"
check "the PEM on stdout is a certificate" openssl x509 -in "$WORK/stdout.pem" -noout
pass "cert issue via TESSERA_HOME prints the certificate on stdout"
ISSUED+=("$(cert_serial "$WORK/stdout.pem")")
for n in $(seq 1 10); do
	tsr cert issue --home "$H" --product $p --csr "$WORK/$p/csr.pem" --subject "$SUBJECT" \
	    --san "dns:$p.example.com" --out "$WORK/extra.pem"
	[ "$RC" -eq 0 ] || { show_output; fail "extra issuance $n exited $RC"; }
	ISSUED+=("$(cert_serial "$WORK/extra.pem")")
done
pass "ten more $p certificates for the same key"
tsr_ok "cert list --role subscriber --json" cert list --home "$H" --role subscriber --json
expect "cert list --role subscriber counts every issued certificate" \
    "$(jq "$JQ_ITEMS | length" "$WORK/out")" "${#ISSUED[@]}"
tsr_ok "cert list --limit 3 --json" cert list --home "$H" --limit 3 --json
expect "cert list --limit 3 shows three" "$(jq "$JQ_ITEMS | length" "$WORK/out")" 3
expect "cert list is newest first" \
    "$(jq -r "$JQ_ITEMS | .[0].serial | ascii_downcase | ltrimstr(\"0\")" \
    "$WORK/out")" "${ISSUED[-1]}"
tsr_ok "cert list --subject tls-server.example --json" cert list --home "$H" --subject \
    tls-server.example --json
expect "cert list --subject finds the 12 TLS certificates" \
    "$(jq "$JQ_ITEMS | length" "$WORK/out")" 12
tsr_ok "cert list --expires-before 2000-01-01 --json" cert list --home "$H" --expires-before \
    2000-01-01 --json
expect "nothing expires before 2000" "$(jq "$JQ_ITEMS | length" "$WORK/out")" 0
tsr_ok "cert list (text)" cert list --home "$H"
for s in "${ISSUED[@]:0:3}"; do
	grep -qi "$s" "$WORK/out" || fail "cert list does not show $s"
done
pass "cert list (text) shows the serials"
tsr_fails "cert show of an unknown serial" 66 'not found|no cert' \
    cert show --home "$H" 0123456789abcdef

section "TLS server certificates for each key type, through NSS"
# verify_three lets NSS's classic verifier object to RSA TLS servers only for
# the keyEncipherment it wants (see there); an EC TLS server must pass it
# outright, so that this allowance can never hide another problem.
p=tls-server
product_info "$H" $p
make_request $p
for kt in ec-p256 ec-p384 rsa-2048; do
	make_key "$kt" "$WORK/tls-$kt.key"
	make_csr "$WORK/tls-$kt.key" "$WORK/tls-$kt.csr" /CN=tls
	tsr_ok "issue $p with an $kt key" cert issue --home "$H" --product $p \
	    --csr "$WORK/tls-$kt.csr" --subject "$SUBJECT" --san "dns:$p.example.com" \
	    --out "$WORK/tls-$kt.pem"
	ISSUED+=("$(cert_serial "$WORK/tls-$kt.pem")")
	verify_three "$p ($kt)" "$H" "$WORK/nss" "$WORK/tls-$kt.pem"
	case $kt in
	ec-*)
		openssl x509 -in "$WORK/tls-$kt.pem" -outform DER -out "$WORK/tls.der"
		run vfychain -d "sql:$WORK/nss" -pp -u 1 "$WORK/tls.der"
		cat "$WORK/out" "$WORK/err" | grep -q 'Chain is good' ||
		    { show_output; fail "$p ($kt): NSS does not accept it as an SSL server"; }
		pass "$p ($kt): NSS vfychain -pp -u 1 says the chain is good"
		;;
	*) ;;
	esac
done

section "serials never repeat"
tsr_ok "cert list --json" cert list --home "$H" --json
all=$( (printf '%s\n' "${ISSUED[@]}"
	jq -r "$JQ_ITEMS | .[].serial" "$WORK/out" | tr 'A-F' 'a-f' | sed 's/^0*//'
	for c in root issuing ocsp; do cert_serial "$H/certs/$c.pem"; done) | sort -u)
expect "every serial is distinct (${#ISSUED[@]} issued + 3 CA)" "$(wc -l <<<"$all")" \
    $((${#ISSUED[@]} + 3))

section "audit"
audit_json "$H"
expect "one cert.issue success record per certificate issued after init" \
    "$(jq "$JQ_ITEMS | (map(select(.action == \"ca.init\")) | .[0].seq) as \$init |
    map(select(.action == \"cert.issue\" and .outcome == \"success\" and .seq > \$init)) | length" \
    "$WORK/audit.json")" "${#ISSUED[@]}"
tsr_ok "tessera audit verify" audit verify --home "$H"

section "an RSA-3072 CA"
HR=$WORK/rsa
init_home "$HR" --key-type rsa-3072
pass "init --key-type rsa-3072"
ISSUING_SKI=$(ski "$HR/certs/issuing.pem")
nss_db "$HR" "$WORK/nss-rsa"
product_info "$HR" tls-server
make_request tls-server
tsr_ok "issue tls-server on the RSA CA" cert issue --home "$HR" --product tls-server \
    --csr "$WORK/tls-server/csr.pem" --subject "$SUBJECT" --san "dns:tls-server.example.com" \
    --out "$WORK/rsa.pem"
verify_three "rsa CA" "$HR" "$WORK/nss-rsa" "$WORK/rsa.pem"
openssl x509 -in "$WORK/rsa.pem" -noout -text >"$WORK/text"
file_has "rsa CA: signed with sha256WithRSAEncryption" "$WORK/text" \
    'Signature Algorithm: sha256WithRSAEncryption'

echo
echo "issue.sh: all checks passed"
