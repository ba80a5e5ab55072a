/* crl.c - (being written) */
#include "x509/x509.h"
