/* prot_deflate.c -- not written yet. */
#include "config.h"
