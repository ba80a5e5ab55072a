/* status.c - (being written) */
#include "client/client.h"
