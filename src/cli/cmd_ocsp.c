/* cmd_ocsp.c - (being written) */
#include "cli/cli.h"

const char cli_usage_ocsp_export[] = "usage: tessera ocsp export [--home DIR] --out DIR\n";
const char cli_usage_ocsp_rotate[] = "usage: tessera ocsp rotate [--home DIR]\n";

int cmd_ocsp_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tsr_error(TSR_ERR_INTERNAL, "tessera ocsp export is not written yet");
}

int cmd_ocsp_rotate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tsr_error(TSR_ERR_INTERNAL, "tessera ocsp rotate is not written yet");
}
