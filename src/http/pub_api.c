/*
 * pub_api.c - (being written): no routes yet.
 */
#include "http/http.h"

const struct tsr_http_route *tsr_http_pub_routes(size_t *n)
{
	*n = 0;
	return NULL;
}
