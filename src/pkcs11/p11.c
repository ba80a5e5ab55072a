/*
 * p11.c - loading a PKCS#11 module, initializing and finding tokens,
 * sessions and login.
 *
 * Tokens are always found again by what they say about themselves (label,
 * manufacturer, model, serial), never by a remembered slot id: SoftHSM2, for
 * one, re-numbers its slots when a token is initialized.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkcs11/p11_int.h"

#define SLOTS_MAX 1024

/* ------------------------------------------------------------------ modules */
/* Resolve and check the module's function list. */
static int bind_functions(struct tsr_p11_module *mod)
{
	CK_C_GetFunctionList get;
	CK_RV rv;

	dlerror();
	get = (CK_C_GetFunctionList)dlsym(mod->dl, "C_GetFunctionList");
	if (get == NULL)
		return tsr_error(TSR_ERR_PKCS11,
		    "%s is not a PKCS#11 module (no C_GetFunctionList)", mod->path);
	rv = get(&mod->fn);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_GetFunctionList", rv);
	if (mod->fn == NULL || mod->fn->version.major != 2)
		return tsr_error(TSR_ERR_PKCS11, "%s: not a PKCS#11 v2 function list", mod->path);
	return 0;
}

/*
 * dlopen() a module and C_Initialize it, allowing it to use the OS's
 * locking (so sessions may be used from several threads).  path must name
 * a file: a bare library name would be searched through the library path,
 * which is not what an operator who wrote it down meant.
 */
int tsr_p11_module_load(const char *path, struct tsr_p11_module **out)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	struct tsr_p11_module *mod = NULL;
	CK_RV rv;
	int rc;

	*out = NULL;
	if (path == NULL || strchr(path, '/') == NULL)
		return tsr_error(TSR_ERR_INVALID, "PKCS#11 module must be given as a file path");
	if (access(path, R_OK) != 0)
		return tsr_error(errno == ENOENT ? TSR_ERR_NOT_FOUND : TSR_ERR_IO,
		    "PKCS#11 module %s: %s", path, strerror(errno));
	mod = calloc(1, sizeof(*mod));
	if (mod == NULL || (mod->path = strdup(path)) == NULL) {
		rc = tsr_error(TSR_ERR_NOMEM, "out of memory");
		goto out;
	}
	mod->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (mod->dl == NULL) {
		rc = tsr_error(TSR_ERR_PKCS11, "cannot load PKCS#11 module: %s", dlerror());
		goto out;
	}
	if ((rc = bind_functions(mod)) < 0)
		goto out;
	rv = mod->fn->C_Initialize(&args);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/* finalizing it later would pull it from under its other user */
		rc = tsr_error(TSR_ERR_PKCS11, "PKCS#11 module %s is already loaded in this "
		    "process; load it once and share it", path);
		goto out;
	}
	if (rv != CKR_OK) {
		rc = tsr_p11_rv_error("C_Initialize", rv);
		goto out;
	}
	*out = mod;
	mod = NULL;
	rc = 0;
out:
	if (mod != NULL) {
		if (mod->dl != NULL)
			dlclose(mod->dl);
		free(mod->path);
		free(mod);
	}
	return rc;
}

/* C_Finalize and dlclose; all sessions must be closed first.  NULL is fine. */
void tsr_p11_module_unload(struct tsr_p11_module *mod)
{
	if (mod == NULL)
		return;
	mod->fn->C_Finalize(NULL);
	dlclose(mod->dl);
	free(mod->path);
	free(mod);
}

/* ------------------------------------------------------------------ tokens */
/* Copy a blank-padded, fixed-width Cryptoki field into a C string, trimmed. */
static void field_copy(char *dst, const unsigned char *src, size_t n)
{
	memcpy(dst, src, n);
	while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
		n--;
	dst[n] = '\0';
}

/* The ids of slots with a token present, in a new array. */
static int present_slots(struct tsr_p11_module *mod, CK_SLOT_ID **out, CK_ULONG *count)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	CK_RV rv;

	*out = NULL;
	*count = 0;
	/* the count can change between the two calls; retry while it grows */
	for (int tries = 0; tries < 4; tries++) {
		rv = mod->fn->C_GetSlotList(CK_TRUE, NULL, &n);
		if (rv != CKR_OK)
			return tsr_p11_rv_error("C_GetSlotList", rv);
		if (n > SLOTS_MAX)
			return tsr_error(TSR_ERR_PKCS11, "PKCS#11 module reports %lu slots", n);
		free(slots);
		slots = calloc(n ? n : 1, sizeof(*slots));
		if (slots == NULL)
			return tsr_error(TSR_ERR_NOMEM, "out of memory");
		rv = mod->fn->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv == CKR_OK) {
			*out = slots;
			*count = n;
			return 0;
		}
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	free(slots);
	return tsr_p11_rv_error("C_GetSlotList", rv);
}

/* Does the token in slot match every token attribute the URI gives? */
static bool token_matches(const struct tsr_p11_uri *uri, CK_SLOT_ID slot,
    const CK_TOKEN_INFO *ti)
{
	char label[33], manufacturer[33], model[17], serial[17];

	field_copy(label, ti->label, sizeof(ti->label));
	field_copy(manufacturer, ti->manufacturerID, sizeof(ti->manufacturerID));
	field_copy(model, ti->model, sizeof(ti->model));
	field_copy(serial, ti->serialNumber, sizeof(ti->serialNumber));
	if (uri == NULL)
		return true;
	return (uri->token == NULL || strcmp(uri->token, label) == 0) &&
	    (uri->manufacturer == NULL || strcmp(uri->manufacturer, manufacturer) == 0) &&
	    (uri->model == NULL || strcmp(uri->model, model) == 0) &&
	    (uri->serial == NULL || strcmp(uri->serial, serial) == 0) &&
	    (uri->slot_id < 0 || (CK_SLOT_ID)uri->slot_id == slot);
}

/* "token=CA, serial=12ab" for an error detail: the token attributes uri sets. */
static void describe(const struct tsr_p11_uri *uri, char *buf, size_t size)
{
	const struct {
		const char *name, *value;
	} attrs[] = {
		{ "token", uri ? uri->token : NULL },
		{ "manufacturer", uri ? uri->manufacturer : NULL },
		{ "model", uri ? uri->model : NULL },
		{ "serial", uri ? uri->serial : NULL },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < TSR_ARRAY_LEN(attrs) && used < size; i++)
		if (attrs[i].value != NULL)
			used += (size_t)snprintf(buf + used, size - used, "%s%s=%s",
			    used ? ", " : "", attrs[i].name, attrs[i].value);
	if (uri != NULL && uri->slot_id >= 0 && used < size)
		used += (size_t)snprintf(buf + used, size - used, "%sslot-id=%ld", used ? ", " : "",
		    uri->slot_id);
	if (used == 0)
		snprintf(buf, size, "any token");
}

/*
 * Find the one initialized token matching uri.  Uninitialized tokens are
 * skipped: nothing can be done with them but C_InitToken, and SoftHSM2
 * always offers one, which would otherwise make "pkcs11:" ambiguous.
 */
static int find_token(struct tsr_p11_module *mod, const struct tsr_p11_uri *uri,
    CK_SLOT_ID *out)
{
	CK_SLOT_ID *slots;
	CK_ULONG n, matches = 0;
	char what[256];
	int rc;

	if ((rc = present_slots(mod, &slots, &n)) < 0)
		return rc;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		CK_RV rv = mod->fn->C_GetTokenInfo(slots[i], &ti);

		if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED)
			continue;
		if (rv != CKR_OK) {
			rc = tsr_p11_rv_error("C_GetTokenInfo", rv);
			goto out;
		}
		if (!(ti.flags & CKF_TOKEN_INITIALIZED) || !token_matches(uri, slots[i], &ti))
			continue;
		if (matches++ == 0)
			*out = slots[i];
	}
	describe(uri, what, sizeof(what));
	if (matches == 0)
		rc = tsr_error(TSR_ERR_NOT_FOUND, "no initialized PKCS#11 token matches %s", what);
	else if (matches > 1)
		rc = tsr_error(TSR_ERR_INVALID,
		    "%lu PKCS#11 tokens match %s; add serial= to the URI", matches, what);
out:
	free(slots);
	return rc;
}

/* Find a present, uninitialized token (SoftHSM2's free slot). */
static int find_free_slot(struct tsr_p11_module *mod, const char *label, CK_SLOT_ID *out)
{
	struct tsr_p11_uri by_label = { .token = (char *)label, .slot_id = -1 };
	CK_SLOT_ID *slots, found;
	CK_ULONG n;
	bool have = false;
	int rc;

	/* a second token with this label would make every later lookup ambiguous */
	rc = find_token(mod, &by_label, &found);
	if (rc == 0 || rc == TSR_ERR_INVALID)
		return tsr_error(TSR_ERR_EXISTS, "a PKCS#11 token labelled '%s' already exists",
		    label);
	if (rc != TSR_ERR_NOT_FOUND)
		return rc;
	if ((rc = present_slots(mod, &slots, &n)) < 0)
		return rc;
	for (CK_ULONG i = 0; i < n && !have; i++) {
		CK_TOKEN_INFO ti;

		if (mod->fn->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    !(ti.flags & CKF_TOKEN_INITIALIZED)) {
			*out = slots[i];
			have = true;
		}
	}
	free(slots);
	if (!have)
		return tsr_error(TSR_ERR_NOT_FOUND,
		    "no uninitialized PKCS#11 token is available to initialize");
	return 0;
}

/* As the SO on a freshly initialized token, set the user PIN. */
static int init_user_pin(struct tsr_p11_module *mod, CK_SLOT_ID slot, const char *so_pin,
    const char *user_pin)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;
	int rc = 0;

	rv = mod->fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_OpenSession", rv);
	rv = mod->fn->C_Login(h, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin));
	if (rv != CKR_OK) {
		rc = tsr_p11_rv_error("C_Login (SO)", rv);
		goto out;
	}
	rv = mod->fn->C_InitPIN(h, (CK_UTF8CHAR *)user_pin, strlen(user_pin));
	if (rv != CKR_OK)
		rc = tsr_p11_rv_error("C_InitPIN", rv);
	mod->fn->C_Logout(h);
out:
	mod->fn->C_CloseSession(h);
	return rc;
}

/*
 * Initialize the first present but uninitialized token with label and the
 * SO PIN, then set the user PIN.  TSR_ERR_EXISTS if a token with this label
 * is already there.
 */
int tsr_p11_token_init(struct tsr_p11_module *mod, const char *label, const char *so_pin,
    const char *user_pin)
{
	struct tsr_p11_uri by_label = { .token = (char *)label, .slot_id = -1 };
	unsigned char padded[32];
	char name[32];
	CK_SLOT_ID slot;
	CK_RV rv;
	int rc;

	if (mod == NULL || label == NULL || so_pin == NULL || user_pin == NULL)
		return tsr_error(TSR_ERR_INVALID, "token init needs a label, an SO PIN and a PIN");
	if (label[0] == '\0' || strlen(label) > sizeof(padded))
		return tsr_error(TSR_ERR_INVALID, "token label must be 1 to %zu bytes",
		    sizeof(padded));
	if ((rc = find_free_slot(mod, label, &slot)) < 0)
		return rc;
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	rv = mod->fn->C_InitToken(slot, (CK_UTF8CHAR *)so_pin, strlen(so_pin), padded);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_LOCKED)
		return tsr_error(TSR_ERR_PIN, "C_InitToken: %s: the SO PIN was refused",
		    tsr_p11_rv_name(rv, name));
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_InitToken", rv);
	/* the slot id may have changed (SoftHSM2 re-numbers); look it up again */
	if ((rc = find_token(mod, &by_label, &slot)) < 0)
		return rc;
	return init_user_pin(mod, slot, so_pin, user_pin);
}

/* ------------------------------------------------------------------ sessions */
/*
 * Open a read-write session on the one initialized token matching uri's
 * token attributes (a NULL uri matches any).  TSR_ERR_NOT_FOUND if none
 * does, TSR_ERR_INVALID if several do.
 */
int tsr_p11_open(struct tsr_p11_module *mod, const struct tsr_p11_uri *uri,
    struct tsr_p11_session **out)
{
	struct tsr_p11_session *s;
	CK_SLOT_ID slot;
	CK_RV rv;
	int rc;

	*out = NULL;
	if (mod == NULL)
		return tsr_error(TSR_ERR_INVALID, "no PKCS#11 module loaded");
	if ((rc = find_token(mod, uri, &slot)) < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	rv = mod->fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s->h);
	if (rv != CKR_OK) {
		free(s);
		return tsr_p11_rv_error("C_OpenSession", rv);
	}
	s->mod = mod;
	s->slot = slot;
	*out = s;
	return 0;
}

/* Close the session; keys found through it must be freed first.  NULL is fine. */
void tsr_p11_close(struct tsr_p11_session *s)
{
	if (s == NULL)
		return;
	s->mod->fn->C_CloseSession(s->h);
	free(s);
}

/* Turn a refused login into TSR_ERR_PIN with a detail saying what to do. */
static int login_error(struct tsr_p11_session *s, CK_RV rv)
{
	CK_TOKEN_INFO ti;
	const char *left = "";

	if (s->mod->fn->C_GetTokenInfo(s->slot, &ti) == CKR_OK) {
		if (ti.flags & CKF_USER_PIN_FINAL_TRY)
			left = "; one more wrong PIN locks the token";
		else if (ti.flags & CKF_USER_PIN_COUNT_LOW)
			left = "; few attempts are left";
	}
	switch (rv) {
	case CKR_PIN_INCORRECT:
		return tsr_error(TSR_ERR_PIN, "C_Login: CKR_PIN_INCORRECT: wrong PIN%s", left);
	case CKR_PIN_LOCKED:
		return tsr_error(TSR_ERR_PIN,
		    "C_Login: CKR_PIN_LOCKED: the PIN is locked; the SO must reset it");
	case CKR_PIN_LEN_RANGE:
		return tsr_error(TSR_ERR_PIN,
		    "C_Login: CKR_PIN_LEN_RANGE: the PIN is too short or too long for this token");
	case CKR_PIN_EXPIRED:
		return tsr_error(TSR_ERR_PIN, "C_Login: CKR_PIN_EXPIRED: the PIN must be changed");
	default:
		return tsr_p11_rv_error("C_Login", rv);
	}
}

/*
 * Log in as the user.  Already logged in (by this or another session of
 * the process) is success; note the token then does not look at pin.
 */
int tsr_p11_login(struct tsr_p11_session *s, const char *pin)
{
	CK_RV rv;

	if (s == NULL || pin == NULL)
		return tsr_error(TSR_ERR_INVALID, "no session or PIN for login");
	rv = s->mod->fn->C_Login(s->h, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return 0;
	return login_error(s, rv);
}

/* What the token says about itself, trimmed into C strings. */
int tsr_p11_token_info(struct tsr_p11_session *s, struct tsr_p11_token_info *out)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	memset(out, 0, sizeof(*out));
	rv = s->mod->fn->C_GetTokenInfo(s->slot, &ti);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_GetTokenInfo", rv);
	field_copy(out->label, ti.label, sizeof(ti.label));
	field_copy(out->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID));
	field_copy(out->model, ti.model, sizeof(ti.model));
	field_copy(out->serial, ti.serialNumber, sizeof(ti.serialNumber));
	out->initialized = ti.flags & CKF_TOKEN_INITIALIZED;
	out->user_pin_initialized = ti.flags & CKF_USER_PIN_INITIALIZED;
	out->user_pin_to_be_changed = ti.flags & CKF_USER_PIN_TO_BE_CHANGED;
	out->user_pin_locked = ti.flags & CKF_USER_PIN_LOCKED;
	out->free_public_memory = ti.ulFreePublicMemory == CK_UNAVAILABLE_INFORMATION ?
	    ~0UL : ti.ulFreePublicMemory;
	out->free_private_memory = ti.ulFreePrivateMemory == CK_UNAVAILABLE_INFORMATION ?
	    ~0UL : ti.ulFreePrivateMemory;
	out->min_pin_len = ti.ulMinPinLen;
	out->max_pin_len = ti.ulMaxPinLen;
	out->protected_auth_path = ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH;
	out->user_pin_count_low = ti.flags & CKF_USER_PIN_COUNT_LOW;
	out->user_pin_final_try = ti.flags & CKF_USER_PIN_FINAL_TRY;
	return 0;
}

/*
 * Change the user PIN (C_SetPIN): in a session that is not logged in, or
 * logged in as the user, it changes the user's PIN.  The new PIN's length
 * is checked against the token's limits first, so the detail can name them.
 */
int tsr_p11_set_pin(struct tsr_p11_session *s, const char *old_pin, const char *new_pin)
{
	CK_TOKEN_INFO ti;
	size_t len;
	CK_RV rv;

	if (s == NULL || old_pin == NULL || new_pin == NULL)
		return tsr_error(TSR_ERR_INVALID, "changing the PIN needs the old and the new PIN");
	len = strlen(new_pin);
	rv = s->mod->fn->C_GetTokenInfo(s->slot, &ti);
	if (rv != CKR_OK)
		return tsr_p11_rv_error("C_GetTokenInfo", rv);
	if (ti.ulMaxPinLen > 0 && (len < ti.ulMinPinLen || len > ti.ulMaxPinLen))
		return tsr_error(TSR_ERR_PIN, "the new PIN has %zu characters; this token takes "
		    "%lu to %lu", len, ti.ulMinPinLen, ti.ulMaxPinLen);
	rv = s->mod->fn->C_SetPIN(s->h, (CK_UTF8CHAR *)old_pin, strlen(old_pin),
	    (CK_UTF8CHAR *)new_pin, len);
	switch (rv) {
	case CKR_OK:
		return 0;
	case CKR_PIN_INCORRECT:
		return tsr_error(TSR_ERR_PIN, "C_SetPIN: CKR_PIN_INCORRECT: wrong current PIN%s",
		    (ti.flags & CKF_USER_PIN_FINAL_TRY) ? "; one more wrong PIN locks the token" :
		    (ti.flags & CKF_USER_PIN_COUNT_LOW) ? "; few attempts are left" : "");
	case CKR_PIN_LOCKED:
		return tsr_error(TSR_ERR_PIN,
		    "C_SetPIN: CKR_PIN_LOCKED: the PIN is locked; the SO must reset it");
	case CKR_PIN_LEN_RANGE:
		return tsr_error(TSR_ERR_PIN, "C_SetPIN: CKR_PIN_LEN_RANGE: the token refuses a new "
		    "PIN of %zu characters", len);
	case CKR_PIN_INVALID:
		return tsr_error(TSR_ERR_PIN, "C_SetPIN: CKR_PIN_INVALID: the token refuses the "
		    "new PIN's characters");
	default:
		return tsr_p11_rv_error("C_SetPIN", rv);
	}
}
