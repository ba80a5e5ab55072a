/* status.c - (being written) */
#include "http/http.h"
