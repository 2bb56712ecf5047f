/* cmd_session.c -- not written yet. */
#include "config.h"
