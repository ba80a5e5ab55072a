/*
 * net.h - the one policy for Tessera's outgoing connections (the SMTP relay,
 * the external verifier): libcurl initialised once per process, and the
 * options every transfer sets.
 */
#ifndef TSR_RA_NET_H
#define TSR_RA_NET_H

#include <curl/curl.h>

/* curl_global_init() once per process (pthread_once); its result. */
CURLcode ra_curl_init(void);

/* Set on h: errbuf (CURL_ERROR_SIZE bytes), url, the protocols allowed
 * ("smtp,smtps"), no redirects, no *_proxy variables, no signals, timeout
 * for the connection and for the whole transfer, TLS 1.2 or later with the
 * peer and its host name verified, and ca_file (NULL: the system's store)
 * as the trust anchors.  The first option that cannot be set stops. */
CURLcode ra_curl_common(CURL *h, char *errbuf, const char *url, const char *protocols,
    long timeout, const char *ca_file);

#endif /* TSR_RA_NET_H */
