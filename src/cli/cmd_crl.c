/* cmd_crl.c - (being written) */
#include "cli/cli.h"

const char cli_usage_crl[] = "usage: tessera crl [--home DIR] [--ca issuing|root] [--out FILE]\n";

int cmd_crl(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tsr_error(TSR_ERR_INTERNAL, "tessera crl is not written yet");
}
