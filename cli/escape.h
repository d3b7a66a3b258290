/* cli/escape.h — printing names that come from a filesystem or a server.
 *
 * Names are data: a hostile 9p export may name a file with terminal escape
 * sequences. Printed through cli_put_name, control bytes (C0, DEL, C1 as
 * UTF-8 or raw), bytes that are not valid UTF-8 and backslash come out as
 * \ooo / \\ (the shape of `ls -b`); valid printable UTF-8 passes. */
#pragma once

#include <stddef.h>
#include <stdio.h>

void cli_put_name(FILE *out, const char *s, size_t len);
/* A NUL-terminated name. */
void cli_put_str(FILE *out, const char *s);
