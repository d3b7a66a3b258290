/* vfs/log.c — the one small leveled logger. Level from $UVFS_LOG. */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "internal.h"

#define LEVEL_UNSET -2
#define LEVEL_OFF -1
static _Atomic int log_level = LEVEL_UNSET;

UVFS_API void uvfs_log_set_level(int level) { atomic_store(&log_level, level); }

static int level_now(void)
{
	int l = atomic_load(&log_level);
	if (l != LEVEL_UNSET)
		return l;
	const char *e = getenv("UVFS_LOG");
	l = UVFS_LOG_WARN;
	if (e) {
		if (!strcasecmp(e, "error"))
			l = UVFS_LOG_ERROR;
		else if (!strcasecmp(e, "info"))
			l = UVFS_LOG_INFO;
		else if (!strcasecmp(e, "debug"))
			l = UVFS_LOG_DEBUG;
		else if (!strcasecmp(e, "off") || !strcasecmp(e, "none"))
			l = LEVEL_OFF;
	}
	atomic_store(&log_level, l);
	return l;
}

UVFS_API void uvfs_log(int level, const char *fmt, ...)
{
	int cur = level_now();
	if (level > cur)
		return;
	static const char *names[] = { "error", "warn", "info", "debug" };
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "uvfs: %s: %s\n", names[level & 3], buf);
}
