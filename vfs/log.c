/* vfs/log.c — the one small leveled logger. Level from $UVFS_LOG; lines go
 * to stderr or to the embedder's sink (uvfs_set_log_func). */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "internal.h"

#define LEVEL_UNSET -2
#define LEVEL_OFF -1
static _Atomic int log_level = LEVEL_UNSET;

/* The sink: both pointers are published together under sink_lock (setting
 * is rare); a logger reads them under the same lock, so a line never pairs
 * one sink's function with another's argument. */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static uvfs_log_fn sink_fn;
static void *sink_arg;

UVFS_API void uvfs_log_set_level(int level) { atomic_store(&log_level, level); }

UVFS_API void uvfs_set_log_func(uvfs_log_fn fn, void *arg)
{
	pthread_mutex_lock(&sink_lock);
	sink_fn = fn;
	sink_arg = arg;
	pthread_mutex_unlock(&sink_lock);
}

static void emit(int level, const char *msg)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	pthread_mutex_lock(&sink_lock);
	uvfs_log_fn fn = sink_fn;
	void *arg = sink_arg;
	pthread_mutex_unlock(&sink_lock);
	if (fn)
		fn(level, msg, arg);
	else
		fprintf(stderr, "uvfs: %s: %s\n", names[level & 3], msg);
}

static int level_now(void)
{
	int l = atomic_load(&log_level);
	if (l != LEVEL_UNSET)
		return l;
	const char *e = getenv("UVFS_LOG");
	l = UVFS_LOG_WARN;
	bool bad = false;
	if (e && *e) {
		if (!strcasecmp(e, "error"))
			l = UVFS_LOG_ERROR;
		else if (!strcasecmp(e, "warn") || !strcasecmp(e, "warning"))
			l = UVFS_LOG_WARN;
		else if (!strcasecmp(e, "info"))
			l = UVFS_LOG_INFO;
		else if (!strcasecmp(e, "debug"))
			l = UVFS_LOG_DEBUG;
		else if (!strcasecmp(e, "off") || !strcasecmp(e, "none"))
			l = LEVEL_OFF;
		else
			bad = true;
	}
	int unset = LEVEL_UNSET;
	/* Only the thread that settles the level reports a bad value. */
	if (atomic_compare_exchange_strong(&log_level, &unset, l) && bad)
		emit(UVFS_LOG_ERROR, "UVFS_LOG: unknown level (want error, warn, info, debug or off); using warn");
	return atomic_load(&log_level);
}

UVFS_API void uvfs_log(int level, const char *fmt, ...)
{
	int cur = level_now();
	if (level > cur)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(level, buf);
}
