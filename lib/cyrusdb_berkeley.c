/* cyrusdb_berkeley.c -- not written yet. */
#include "config.h"
