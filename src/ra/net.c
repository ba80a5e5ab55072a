/*
 * net.c - the libcurl policy shared by mail.c and verifier.c (net.h).
 */
#include <pthread.h>

#include "ra/net.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

CURLcode ra_curl_init(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_init_rc;
}

/* Every option that decides where the bytes go and how they are
 * protected; a failure to set one stops the transfer. */
CURLcode ra_curl_common(CURL *h, char *errbuf, const char *url, const char *protocols,
    long timeout, const char *ca_file)
{
	CURLcode cc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_URL, url);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (cc == CURLE_OK) /* *_proxy variables in the environment are ignored */
		cc = curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cc == CURLE_OK && ca_file != NULL)
		cc = curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
	return cc;
}
