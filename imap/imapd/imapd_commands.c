/* imapd_commands.c -- not written yet. */
#include "config.h"
