/*
 * cmd_product.c - `tessera product list|show`: what the CA offers.
 */
#include <stdio.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"

const char cli_usage_product_list[] =
    "usage: tessera product list --home DIR [--json]\n"
    "\n"
    "List the products (certificate profiles with their enrollment policies) defined\n"
    "in DIR/tessera.conf.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      JSON instead of a table\n"
    "  --help      this text\n";

const char cli_usage_product_show[] =
    "usage: tessera product show --home DIR NAME [--json]\n"
    "\n"
    "Show one product: key usage, extended key usages, policies, validity, allowed\n"
    "keys, subject and SAN rules, storage, RA approvals, payment and applicant fields.\n"
    "\n"
    "options:\n"
    "  --home DIR  the CA home (or $TESSERA_HOME)\n"
    "  --json      JSON instead of text\n"
    "  --help      this text\n";

enum { OPT_HOME = 1, OPT_JSON, OPT_HELP };

static const struct option product_options[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse(int argc, char **argv, const char *usage, const char **home, bool *json,
    const char **name)
{
	int c;

	*home = NULL;
	*json = false;
	optind = 1;
	opterr = 0;   /* one error line, ours */
	while ((c = getopt_long(argc, argv, "", product_options, NULL)) != -1) {
		switch (c) {
		case OPT_HOME: *home = optarg; break;
		case OPT_JSON: *json = true; break;
		case OPT_HELP: fputs(usage, stdout); return CLI_HELP;
		default: return cli_bad_option(usage, argv);
		}
	}
	if (name != NULL && optind < argc)
		*name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void key_names(unsigned mask, char *out, size_t size, json_t *array)
{
	out[0] = '\0';
	for (int t = 1; t < TSR_KEY_TYPE_COUNT; t++) {
		if (!(mask & (1u << t)))
			continue;
		if (array != NULL)
			json_array_append_new(array, json_string(tsr_key_type_name(t)));
		snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? ", " : "",
		    tsr_key_type_name(t));
	}
}

static void san_names(unsigned mask, char *out, size_t size, json_t *array)
{
	out[0] = '\0';
	for (int t = 0; t < TSR_SAN_TYPE_COUNT; t++) {
		if (!(mask & (1u << t)))
			continue;
		if (array != NULL)
			json_array_append_new(array, json_string(tsr_san_type_name(t)));
		snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? ", " : "",
		    tsr_san_type_name(t));
	}
}

static json_t *product_json(const struct tsr_product *p)
{
	json_t *keys = json_array(), *sans = json_array();
	char buf[256];

	key_names(p->key_types, buf, sizeof(buf), keys);
	san_names(p->san_allowed, buf, sizeof(buf), sans);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o, s:o, s:b,"
	    " s:s, s:i, s:s, s:o}",
	    "name", p->name, "title", p->title, "description", p->description,
	    "class", tsr_product_class_name(p->class_),
	    "extended_key_usage", strings(p->eku, p->n_eku),
	    "policies", strings(p->policies, p->n_policies),
	    "validity_days", p->validity_days, "max_validity_days", p->max_validity_days,
	    "key_types", keys,
	    "subject_required", strings(p->subject_required, p->n_subject_required),
	    "subject_allowed", strings(p->subject_allowed, p->n_subject_allowed),
	    "san_allowed", sans, "san_required", p->san_required,
	    "storage", tsr_storage_name(p->storage), "ra_approvals", p->ra_approvals,
	    "payment", p->payment,
	    "applicant_fields", strings(p->applicant_fields, p->n_applicant_fields));
}

static void print_list(const char *label, char *const *v, size_t n)
{
	printf("%-20s", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", v[i]);
	printf("%s\n", n ? "" : "-");
}

static void print_product(const struct tsr_product *p)
{
	char buf[256];

	printf("%-20s%s\n%-20s%s\n", "name", p->name, "title", p->title);
	if (p->description[0] != '\0')
		printf("%-20s%s\n", "description", p->description);
	printf("%-20s%s (keyUsage %s, critical)\n", "class", tsr_product_class_name(p->class_),
	    p->class_ == TSR_CLASS_SIGNING ? "digitalSignature, nonRepudiation" :
	    "digitalSignature");
	print_list("extended key usage", p->eku, p->n_eku);
	print_list("policies", p->policies, p->n_policies);
	printf("%-20s%d days (cap %d)\n", "validity", p->validity_days, p->max_validity_days);
	key_names(p->key_types, buf, sizeof(buf), NULL);
	printf("%-20s%s\n", "key types", buf);
	print_list("subject required", p->subject_required, p->n_subject_required);
	print_list("subject allowed", p->subject_allowed, p->n_subject_allowed);
	san_names(p->san_allowed, buf, sizeof(buf), NULL);
	printf("%-20s%s%s\n", "SANs", buf[0] ? buf : "none",
	    p->san_required ? " (at least one required)" : "");
	printf("%-20s%s\n%-20s%d\n%-20s%s\n", "key storage", tsr_storage_name(p->storage),
	    "RA approvals", p->ra_approvals, "payment", p->payment);
	print_list("applicant fields", p->applicant_fields, p->n_applicant_fields);
}

int cmd_product_list(int argc, char **argv)
{
	struct tsr_config cfg;
	const char *home;
	json_t *a = NULL;
	bool json;
	int r;

	if ((r = parse(argc, argv, cli_usage_product_list, &home, &json, NULL)) != 0 ||
	    (r = cli_home(home, &home)) != 0 || (r = tsr_config_load(home, &cfg)) != 0)
		return r;
	if (json)
		a = json_array();
	else
		printf("%-20s %-15s %-9s %-9s %s\n", "NAME", "CLASS", "STORAGE", "VALIDITY", "TITLE");
	for (size_t i = 0; i < cfg.products.n; i++) {
		const struct tsr_product *p = &cfg.products.items[i];

		if (a != NULL)
			json_array_append_new(a, product_json(p));
		else
			printf("%-20s %-15s %-9s %4d days %s\n", p->name,
			    tsr_product_class_name(p->class_), tsr_storage_name(p->storage),
			    p->validity_days, p->title);
	}
	if (json)
		r = cli_json_print(a);
	tsr_config_free(&cfg);
	return r;
}

int cmd_product_show(int argc, char **argv)
{
	const struct tsr_product *p;
	struct tsr_config cfg;
	const char *home, *name = NULL;
	bool json;
	int r;

	if ((r = parse(argc, argv, cli_usage_product_show, &home, &json, &name)) != 0)
		return r;
	if (name == NULL)
		return cli_usage_error(cli_usage_product_show, "a product NAME is required");
	if ((r = cli_home(home, &home)) != 0 || (r = tsr_config_load(home, &cfg)) != 0)
		return r;
	if ((p = tsr_product_find(&cfg.products, name)) == NULL)
		r = tsr_error(TSR_ERR_NOT_FOUND, "unknown product '%s' (see tessera product list)",
		    name);
	else if (json)
		r = cli_json_print(product_json(p));
	else
		print_product(p);
	tsr_config_free(&cfg);
	return r;
}
