/* prot_tls.c -- not written yet. */
#include "config.h"
