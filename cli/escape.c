/* cli/escape.c — escaped printing of untrusted names (see escape.h). */
#include "cli/escape.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes) that is not a
 * control character, or 0. */
static size_t utf8_printable(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;
	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF, and C1 controls */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

void cli_put_name(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		if (p[i] == '\\') {
			fputs("\\\\", out);
			i++;
			continue;
		}
		size_t n = utf8_printable(p + i, len - i);
		if (n) {
			fwrite(p + i, 1, n, out);
			i += n;
		} else {
			fprintf(out, "\\%03o", p[i]);
			i++;
		}
	}
}

void cli_put_str(FILE *out, const char *s) { cli_put_name(out, s, strlen(s)); }
