/* ocsp.c - (being written) */
#include "ca/ca_impl.h"
