#!/bin/bash
# init.sh - `tessera init`: the files of a new CA home, its certificates as
# OpenSSL sees them, its keys as OpenSC and GnuTLS see them on the token, the
# options, an external token, and every way init must refuse.
. "$(dirname "$0")/lib.sh"
need openssl pkcs11-tool p11tool softhsm2-util jq

YEAR=$((365 * 86400))
DAY=86400

# check_ca_cert DESC PEM: the extensions every CA certificate must have.
check_ca_cert()
{
	local desc=$1 pem=$2
	ext "$pem" basicConstraints >"$WORK/e"
	file_has "$desc: basicConstraints is critical" "$WORK/e" 'Basic Constraints: critical'
	file_has "$desc: basicConstraints CA:TRUE" "$WORK/e" '^ *CA:TRUE'
	ext "$pem" keyUsage >"$WORK/e"
	file_has "$desc: keyUsage is critical" "$WORK/e" 'Key Usage: critical'
	file_has "$desc: keyUsage is Certificate Sign, CRL Sign" "$WORK/e" \
	    '^ *Certificate Sign, CRL Sign$'
	[ -n "$(ski "$pem")" ] || fail "$desc: no subjectKeyIdentifier"
	pass "$desc: has a subjectKeyIdentifier"
	openssl x509 -in "$pem" -noout -text >"$WORK/e"
	file_has "$desc: is X.509 v3" "$WORK/e" 'Version: 3 \(0x2\)'
}

# check_validity DESC PEM MAX_SECONDS
check_validity()
{
	local s
	s=$(cert_seconds "$2")
	[ "$s" -gt 0 ] && [ "$s" -le "$3" ] ||
	    fail "$1: validity is $((s / DAY)) days, at most $(($3 / DAY)) allowed"
	pass "$1: validity $((s / DAY)) days <= $(($3 / DAY))"
}

# check_key DESC PEM REGEX: the public key / signature as `openssl x509 -text` shows.
check_text()
{
	openssl x509 -in "$2" -noout -text >"$WORK/e"
	file_has "$1" "$WORK/e" "$3"
}

# check_token_keys DESC SOFTHSM2_CONF PIN CERT...: every private key on the
# token is sensitive and never extractable, its value cannot be read, and
# each certificate's key is one of them (the token signs a challenge that
# the certificate's public key verifies).
check_token_keys()
{
	local desc=$1 conf=$2 pin=$3 n access id pem found alg flag
	shift 3
	local tool=(env "SOFTHSM2_CONF=$conf" pkcs11-tool --module "$SOFTHSM_MODULE")

	run "${tool[@]}" --list-objects --type privkey
	grep -q '^Private Key Object' "$WORK/out" &&
	    fail "$desc: private keys are listed without logging in"
	pass "$desc: private keys are invisible before login"

	check "$desc: pkcs11-tool lists the objects after login" \
	    "${tool[@]}" --list-objects --login --pin "$pin"
	cp "$WORK/out" "$WORK/objects"
	private_key_access "$WORK/objects" >"$WORK/access"
	n=$(wc -l <"$WORK/access")
	[ "$n" -ge $# ] || fail "$desc: $n private keys on the token, expected at least $#"
	pass "$desc: $n private keys on the token"
	while read -r access; do
		for flag in sensitive "always sensitive" "never extractable"; do
			[[ ",${access//, /,}," == *",$flag,"* ]] ||
			    fail "$desc: a private key's Access is '$access', without '$flag'"
		done
	done <"$WORK/access"
	pass "$desc: every private key is 'sensitive, always sensitive, never extractable'"

	run env "SOFTHSM2_CONF=$conf" GNUTLS_PIN="$pin" p11tool --provider "$SOFTHSM_MODULE" \
	    --login --list-privkeys --detailed-url
	grep -q 'CKA_NEVER_EXTRACTABLE' "$WORK/out" || fail "$desc: p11tool shows no key flags"
	if grep '^	Flags:' "$WORK/out" | grep -v 'CKA_NEVER_EXTRACTABLE' | grep -q .; then
		fail "$desc: p11tool shows a private key without CKA_NEVER_EXTRACTABLE"
	fi
	if grep '^	Flags:' "$WORK/out" | grep -v 'CKA_SENSITIVE' | grep -q .; then
		fail "$desc: p11tool shows a private key without CKA_SENSITIVE"
	fi
	pass "$desc: p11tool agrees (CKA_SENSITIVE, CKA_NEVER_EXTRACTABLE on every key)"

	# OpenSC and GnuTLS both try to read CKA_VALUE; neither may get it.
	for id in $(awk '/^Private Key Object/ { k = 1; next } /^[A-Z]/ { k = 0 }
	    k && /^ *ID:/ { print $2 }' "$WORK/objects"); do
		rm -f "$WORK/value"
		run "${tool[@]}" --login --pin "$pin" --read-object --type privkey --id "$id" \
		    -o "$WORK/value"
		[ -s "$WORK/value" ] && fail "$desc: pkcs11-tool read the value of private key $id"
		run env "SOFTHSM2_CONF=$conf" GNUTLS_PIN="$pin" p11tool --provider "$SOFTHSM_MODULE" \
		    --login --export "pkcs11:id=%$id;type=private"
		[ "$RC" -ne 0 ] || fail "$desc: p11tool exported private key $id"
	done
	pass "$desc: no private key value can be read (pkcs11-tool, p11tool --export)"

	head -c 64 /dev/urandom >"$WORK/challenge"
	openssl dgst -sha256 -binary "$WORK/challenge" >"$WORK/digest"
	for pem in "$@"; do
		openssl x509 -in "$pem" -noout -pubkey >"$WORK/pub"
		alg=$(openssl x509 -in "$pem" -noout -text | grep -m1 'Public Key Algorithm')
		found=
		for id in $(awk '/^Private Key Object/ { k = 1; next } /^[A-Z]/ { k = 0 }
		    k && /^ *ID:/ { print $2 }' "$WORK/objects"); do
			rm -f "$WORK/sig"
			if [[ $alg == *rsaEncryption* ]]; then
				run "${tool[@]}" --login --pin "$pin" --sign --id "$id" \
				    -m SHA256-RSA-PKCS -i "$WORK/challenge" -o "$WORK/sig"
				[ "$RC" -eq 0 ] && openssl dgst -sha256 -verify "$WORK/pub" \
				    -signature "$WORK/sig" "$WORK/challenge" >/dev/null 2>&1 &&
				    found=$id && break
			else
				run "${tool[@]}" --login --pin "$pin" --sign --id "$id" \
				    -m ECDSA -f openssl -i "$WORK/digest" -o "$WORK/sig"
				[ "$RC" -eq 0 ] && openssl pkeyutl -verify -pubin -inkey "$WORK/pub" \
				    -in "$WORK/digest" -sigfile "$WORK/sig" >/dev/null 2>&1 &&
				    found=$id && break
			fi
		done
		[ -n "$found" ] || fail "$desc: no key on the token matches $(basename "$pem")"
		pass "$desc: the key of $(basename "$pem") is token key $found"
	done
}

# no_trace DESC DIR: DIR (the parent of a refused home) is as empty as before
# (on PostgreSQL, and the database the refused init was given, DB_ARGS, too).
no_trace()
{
	[ -z "$(ls -A "$2")" ] || fail "$1: left behind: $(ls -A "$2" | tr '\n' ' ')"
	if on_pg; then
		expect "$1: the database is still empty" "$(psql "${DB_ARGS[1]}" -X -q -At -c \
		    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		     WHERE n.nspname = 'public'" </dev/null)" 0
	fi
	pass "$1: nothing left behind"
}

# --------------------------------------------------------------------------
section "tessera init with defaults"
base_home
H=$BASE
pass "tessera init --home $H"
if on_pg; then DBFILE=(); else DBFILE=(tessera.db); fi
for f in tessera.conf "${DBFILE[@]}" token.pin certs/root.pem certs/issuing.pem certs/ocsp.pem \
    certs/chain.pem; do
	[ -s "$H/$f" ] || fail "$f is missing or empty"
done
pass "tessera.conf, ${DBFILE[*]:+tessera.db, }token.pin, certs/{root,issuing,ocsp,chain}.pem exist"
if on_pg; then
	expect "tessera.conf names the PostgreSQL database init was given" "$(db_uri "$H")" \
	    "${DB_ARGS[1]}"
	for f in tessera.db tessera.db-wal tessera.db-shm; do
		[ ! -e "$H/$f" ] || fail "a home in PostgreSQL has $f"
	done
	pass "no SQLite file is left in the home"
	expect "the database holds the CA certificates" "$(cert_count_db "$H")" 3
fi
if sqlite_only "tessera.db is mode 0600" "the data is in the server's files"; then
	expect "tessera.db is mode 0600" "$(stat -c %a "$H/tessera.db")" 600
fi
expect "token.pin is mode 0600" "$(stat -c %a "$H/token.pin")" 600
PIN=$(cat "$H/token.pin")
[ "${#PIN}" -ge 16 ] || fail "the generated token PIN has ${#PIN} characters, expected >= 16"
pass "the generated token PIN has ${#PIN} characters"
for f in tessera.conf certs/root.pem; do
	case $(stat -c %A "$H/$f") in
	????????w?) fail "$f is world-writable" ;;
	*) ;;
	esac
done
pass "tessera.conf and the certificates are not world-writable"

section "root CA certificate"
R=$H/certs/root.pem I=$H/certs/issuing.pem O=$H/certs/ocsp.pem C=$H/certs/chain.pem
check_ca_cert root "$R"
expect "root: subject equals issuer (self-signed)" \
    "$(openssl x509 -in "$R" -noout -subject | sed 's/^subject=//')" \
    "$(openssl x509 -in "$R" -noout -issuer | sed 's/^issuer=//')"
check "root: its signature verifies (openssl verify -x509_strict)" \
    openssl verify -x509_strict -CAfile "$R" "$R"
check_validity root "$R" $((20 * YEAR + 5 * DAY))
check_text "root: subject has O=Tessera Demo" "$R" 'Subject:.*O ?= ?Tessera Demo'
check_text "root: default key type ec-p384" "$R" 'ASN1 OID: secp384r1'
check_text "root: signed with ecdsa-with-SHA384" "$R" 'Signature Algorithm: ecdsa-with-SHA384'
ROOT_SKI=$(ski "$R")

section "issuing CA certificate"
check_ca_cert issuing "$I"
ext "$I" basicConstraints >"$WORK/e"
file_has "issuing: pathlen:0" "$WORK/e" 'CA:TRUE, pathlen:0'
expect "issuing: authorityKeyIdentifier = root subjectKeyIdentifier" "$(aki "$I")" "$ROOT_SKI"
expect "issuing: issuer = root subject" \
    "$(openssl x509 -in "$I" -noout -issuer | sed 's/^issuer=//')" \
    "$(openssl x509 -in "$R" -noout -subject | sed 's/^subject=//')"
check_validity issuing "$I" $((10 * YEAR + 3 * DAY))
check "issuing: verifies against the root (openssl verify -x509_strict)" \
    openssl verify -x509_strict -CAfile "$R" "$I"
check_text "issuing: default key type ec-p384" "$I" 'ASN1 OID: secp384r1'
na_root=$(date -d "$(openssl x509 -in "$R" -noout -enddate | cut -d= -f2)" +%s)
na_iss=$(date -d "$(openssl x509 -in "$I" -noout -enddate | cut -d= -f2)" +%s)
[ "$na_iss" -le "$na_root" ] || fail "issuing: expires after the root"
pass "issuing: expires no later than the root"

section "OCSP responder certificate"
ext "$O" extendedKeyUsage >"$WORK/e"
file_has "ocsp: extendedKeyUsage is OCSP Signing" "$WORK/e" '^ *OCSP Signing$'
check_text "ocsp: has OCSP No Check" "$O" 'OCSP No Check'
check_validity ocsp "$O" $((120 * DAY))
ext "$O" basicConstraints >"$WORK/e"
file_lacks "ocsp: is not a CA" "$WORK/e" 'CA:TRUE'
ext "$O" keyUsage >"$WORK/e"
file_has "ocsp: keyUsage critical" "$WORK/e" 'Key Usage: critical'
file_has "ocsp: keyUsage Digital Signature" "$WORK/e" 'Digital Signature'
expect "ocsp: issued by the issuing CA (AKI = issuing SKI)" "$(aki "$O")" "$(ski "$I")"
check "ocsp: verifies against the root via the issuing CA" \
    openssl verify -x509_strict -purpose ocsphelper -CAfile "$R" -untrusted "$I" "$O"

section "chain.pem"
expect "chain.pem holds two certificates" "$(grep -c 'BEGIN CERTIFICATE' "$C")" 2
expect "chain.pem starts with the issuing CA" \
    "$(openssl x509 -in "$C" -outform DER | sha256sum)" \
    "$(openssl x509 -in "$I" -outform DER | sha256sum)"
check "chain.pem ends with the root" grep -qF "$(sed -n 2p "$R")" "$C"
check "the OCSP certificate verifies with chain.pem as the untrusted chain" \
    openssl verify -CAfile "$R" -untrusted "$C" "$O"

section "the store knows the CA certificates"
serials=$(for p in "$R" "$I" "$O"; do cert_serial "$p"; done)
expect "three distinct serials" "$(sort -u <<<"$serials" | wc -l)" 3
for s in $serials; do
	[ "${#s}" -ge 16 ] || fail "serial $s has fewer than 64 bits"
	tsr_ok "cert show $s" cert show --home "$H" "$s"
	tsr_ok "cert show $s --pem" cert show --home "$H" "$s" --pem
	grep -q 'BEGIN CERTIFICATE' "$WORK/out" || fail "cert show --pem printed no PEM"
done
pass "every serial has at least 64 bits"
expect "cert list --json shows the three CA certificates" "$(cert_count_json "$H")" 3

section "audit after init"
audit_json "$H"
expect "the audit log records ca.init with outcome success" \
    "$(jq -r "$JQ_ITEMS | map(select(.action == \"ca.init\")) | .[0].outcome" \
    "$WORK/audit.json")" success
tsr_ok "tessera audit verify" audit verify --home "$H"

section "CA keys on the built-in SoftHSM2 token"
check_token_keys "built-in token" "$H/softhsm2.conf" "$PIN" "$R" "$I" "$O"
check_fails "the token refuses the wrong PIN" \
    env "SOFTHSM2_CONF=$H/softhsm2.conf" pkcs11-tool --module "$SOFTHSM_MODULE" \
    --list-objects --login --pin 00000000

section "init refuses an existing home"
before=$(cd "$H" && sha tessera.conf token.pin softhsm2.conf certs/*.pem)
n_audit=$(audit_count "$H")
tsr_fails "init on an existing home" 73 'exist' init --home "$H"
expect "config, PIN, token config and certificates unchanged" \
    "$(cd "$H" && sha tessera.conf token.pin softhsm2.conf certs/*.pem)" "$before"
expect "the refusal adds one audit record" "$(audit_count "$H")" $((n_audit + 1))
expect "the last audit record is ca.init / refused" \
    "$(jq -r "$JQ_ITEMS | last | \"\(.action) \(.outcome)\"" "$WORK/audit.json")" "ca.init refused"
tsr_ok "the audit chain still verifies" audit verify --home "$H"

mkdir -p "$WORK/full" && echo keep >"$WORK/full/notes.txt"
tsr_fails "init in a non-empty directory that is not a home" any 'exist|empty' \
    init --home "$WORK/full"
expect "the directory is untouched" "$(ls -A "$WORK/full")" notes.txt
echo x >"$WORK/afile"
tsr_fails "init where the home is a file" any 'exist|directory' init --home "$WORK/afile"

section "init usage and options"
tsr_fails "init without --home" 64 'home' init
mkdir "$WORK/empty"
new_database
TESSERA_HOME=$WORK/empty tsr init "${DB_ARGS[@]}"
[ "$RC" -eq 0 ] || { show_output; fail "TESSERA_HOME=<empty dir> tessera init exited $RC"; }
if on_pg; then
	[ "$(dbq "$WORK/empty" 'SELECT count(*) FROM audit')" -gt 0 ] ||
	    fail "init in an empty directory filled no database"
else
	[ -f "$WORK/empty/tessera.db" ] || fail "init in an empty directory made no database"
fi
pass "init via TESSERA_HOME into an existing empty directory"

if on_pg; then
	# init copies into an EMPTY database only, and leaves one it refuses as it was.
	mkdir "$WORK/taken"
	n_audit=$(audit_count "$H")
	tsr_fails "init --database naming a database that is not empty" any 'empty|exist' \
	    init --home "$WORK/taken/h" --database "$(db_uri "$H")"
	expect "$WORK/taken: nothing left behind" "$(ls -A "$WORK/taken")" ""
	expect "that database's audit log is as it was" "$(audit_count "$H")" "$n_audit"
	tsr_ok "and its chain verifies" audit verify --home "$H"
	tsr_fails "init --database with a password in the URI" any 'password' init \
	    --home "$WORK/taken/h" --database "postgresql://tessera:secret@127.0.0.1:1/x"
	expect "$WORK/taken: still nothing left behind" "$(ls -A "$WORK/taken")" ""
fi

mkdir "$WORK/bad"
new_database
for kt in rsa-1024 ed25519 rsa-2048 ec-p521 foo; do
	tsr_fails "init --key-type $kt is refused" any "$kt|key" init --home "$WORK/bad/h" \
	    "${DB_ARGS[@]}" --key-type "$kt"
	no_trace "init --key-type $kt" "$WORK/bad"
done
for bad in "--country USA" "--country 1X" "--ocsp-days 121" "--ocsp-days 0" "--root-days -1" \
    "--issuing-days abc" "--public-url not-a-url" "--org ''"; do
	eval "set -- $bad"
	tsr_fails "init $bad is refused" any "${1#--}|country|days|url|org" init --home "$WORK/bad/h" \
	    "${DB_ARGS[@]}" "$@"
	no_trace "init $bad" "$WORK/bad"
done

H2=$WORK/acme
init_home "$H2" --org "Acme Clinic" --country US --key-type rsa-3072
pass "init --org 'Acme Clinic' --country US --key-type rsa-3072"
for p in root issuing; do
	check_text "$p: subject has O=Acme Clinic and C=US" "$H2/certs/$p.pem" \
	    'Subject: .*C ?= ?US.*O ?= ?Acme Clinic|Subject: .*O ?= ?Acme Clinic.*C ?= ?US'
	check_text "$p: RSA 3072-bit key" "$H2/certs/$p.pem" 'Public-Key: \(3072 bit\)'
	check_text "$p: sha256WithRSAEncryption" "$H2/certs/$p.pem" \
	    'Signature Algorithm: sha256WithRSAEncryption'
done
check "rsa-3072: the issuing CA verifies against the root" \
    openssl verify -x509_strict -CAfile "$H2/certs/root.pem" "$H2/certs/issuing.pem"
check_token_keys "rsa-3072 token" "$H2/softhsm2.conf" "$(cat "$H2/token.pin")" \
    "$H2/certs/root.pem" "$H2/certs/issuing.pem"

H3=$WORK/p256
init_home "$H3" --key-type ec-p256 --public-url http://ca.example.test --root-days 3650 \
    --issuing-days 1825 --ocsp-days 30
pass "init --key-type ec-p256 --public-url ... --root-days 3650 --issuing-days 1825 --ocsp-days 30"
check_text "issuing: P-256 key" "$H3/certs/issuing.pem" 'ASN1 OID: prime256v1'
check_text "issuing: ecdsa-with-SHA256" "$H3/certs/issuing.pem" \
    'Signature Algorithm: ecdsa-with-SHA256'
for pd in root:3650 issuing:1825 ocsp:30; do
	s=$(cert_seconds "$H3/certs/${pd%:*}.pem")
	want=$((${pd#*:} * DAY))
	[ $((s - want)) -le $DAY ] && [ $((want - s)) -le $DAY ] ||
	    fail "${pd%:*}: validity $s s, expected ${pd#*:} days"
	pass "${pd%:*}: validity ${pd#*:} days as asked"
done
file_has "tessera.conf records the public URL" "$H3/tessera.conf" 'http://ca\.example\.test'
check "ec-p256: the OCSP certificate verifies" \
    openssl verify -CAfile "$H3/certs/root.pem" -untrusted "$H3/certs/issuing.pem" \
    "$H3/certs/ocsp.pem"

section "init with an external token"
X=$WORK/hsm
mkdir -p "$X/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$X" \
    >"$X/softhsm2.conf"
export SOFTHSM2_CONF=$X/softhsm2.conf
check "softhsm2-util makes token MyHSM" softhsm2-util --init-token --free --label MyHSM \
    --pin 7531-user-pin --so-pin 8642-so-pin
printf '7531-user-pin\n' >"$X/pin"
printf 'wrong-pin-0000\n' >"$X/badpin"
chmod 600 "$X/pin" "$X/badpin"
mkdir "$WORK/ext"
new_database

tsr_fails "init with a wrong PIN in the pin file" any 'pin' init --home "$WORK/ext/h" \
    "${DB_ARGS[@]}" --pkcs11-module "$SOFTHSM_MODULE" --token 'pkcs11:token=MyHSM' --pin-file "$X/badpin"
[ "$RC" -ne 64 ] || fail "a wrong PIN is not a usage error"
no_trace "init with a wrong PIN" "$WORK/ext"
tsr_fails "init with a token that does not exist" any 'token|NoSuchHSM' init --home "$WORK/ext/h" \
    "${DB_ARGS[@]}" --pkcs11-module "$SOFTHSM_MODULE" --token 'pkcs11:token=NoSuchHSM' --pin-file "$X/pin"
no_trace "init with a missing token" "$WORK/ext"
tsr_fails "init with a module that does not exist" any 'module|load|pkcs11|no such' \
    init --home "$WORK/ext/h" "${DB_ARGS[@]}" --pkcs11-module "$WORK/nope.so" \
    --token 'pkcs11:token=MyHSM' --pin-file "$X/pin"
no_trace "init with a missing module" "$WORK/ext"
tsr_fails "init --pkcs11-module without --token and --pin-file" 64 'token|pin' \
    init --home "$WORK/ext/h" "${DB_ARGS[@]}" --pkcs11-module "$SOFTHSM_MODULE"
no_trace "init with a half-given token" "$WORK/ext"
run pkcs11-tool --module "$SOFTHSM_MODULE" --token-label MyHSM --login --pin 7531-user-pin \
    --list-objects
grep -q 'Object' "$WORK/out" && fail "the refused inits left objects on the token"
pass "the refused inits left no objects on the token"

HX=$WORK/ext/h
init_home "$HX" --pkcs11-module "$SOFTHSM_MODULE" --token 'pkcs11:token=MyHSM' --pin-file "$X/pin"
pass "init --pkcs11-module ... --token pkcs11:token=MyHSM --pin-file ..."
[ ! -e "$HX/tokens" ] || fail "a home on an external token has a built-in token directory"
pass "the home has no built-in token"
file_has "tessera.conf names the token" "$HX/tessera.conf" 'pkcs11:token=MyHSM'
check "external: the issuing CA verifies against the root" \
    openssl verify -x509_strict -CAfile "$HX/certs/root.pem" "$HX/certs/issuing.pem"
check_token_keys "MyHSM" "$X/softhsm2.conf" 7531-user-pin \
    "$HX/certs/root.pem" "$HX/certs/issuing.pem" "$HX/certs/ocsp.pem"
tsr_ok "external: tessera audit verify" audit verify --home "$HX"
unset SOFTHSM2_CONF

echo
echo "init.sh: all checks passed"
