/* cmd_auth.c -- not written yet. */
#include "config.h"
