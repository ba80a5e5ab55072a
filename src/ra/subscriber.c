/* subscriber.c - (being written) */
#include "ra/app.h"
