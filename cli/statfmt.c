/* cli/statfmt.c — see statfmt.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/escape.h"
#include "cli/statfmt.h"

void cli_mode_string(mode_t m, char out[11])
{
	const char *types = "?pc?d?b?-?l?s???";
	out[0] = types[(m >> 12) & 15];
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (0400 >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = 0;
}

const char *cli_type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "regular file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symbolic link";
	case S_IFCHR: return "character special file";
	case S_IFBLK: return "block special file";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	}
	return "unknown";
}

/* "2026-12-04 15:36:00.123456789 +0000" in local time, as stat(1). */
static void fmt_time(char *b, size_t len, const struct statx_timestamp *ts, bool rfc3339)
{
	time_t t = (time_t)ts->tv_sec;
	struct tm tm;
	localtime_r(&t, &tm);
	char day[32], zone[8];
	strftime(day, sizeof(day), rfc3339 ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	if (rfc3339) /* +hh:mm */
		snprintf(b, len, "%s.%09u%.3s:%.2s", day, ts->tv_nsec, zone, zone + 3);
	else
		snprintf(b, len, "%s.%09u %s", day, ts->tv_nsec, zone);
}

void cli_print_stat(FILE *f, const char *name, const struct statx *x, const char *target, const char *extra)
{
	char m[11], tb[64];
	cli_mode_string(x->stx_mode, m);
	fputs("  File: ", f), cli_put_str(f, name);
	if (target)
		fputs(" -> ", f), cli_put_str(f, target);
	fprintf(f, "\n  Size: %-15llu Blocks: %-10llu IO Block: %-6u %s\n", (unsigned long long)x->stx_size,
		(unsigned long long)x->stx_blocks, x->stx_blksize, cli_type_name(x->stx_mode));
	fprintf(f, "Device: %u,%u\tInode: %-11llu Links: %u", x->stx_dev_major, x->stx_dev_minor,
		(unsigned long long)x->stx_ino, x->stx_nlink);
	if (S_ISCHR(x->stx_mode) || S_ISBLK(x->stx_mode))
		fprintf(f, "\tDevice type: %u,%u", x->stx_rdev_major, x->stx_rdev_minor);
	fprintf(f, "\nAccess: (%04o/%s)  Uid: %u  Gid: %u\n", x->stx_mode & 07777, m, x->stx_uid, x->stx_gid);
	fmt_time(tb, sizeof(tb), &x->stx_atime, false);
	fprintf(f, "Access: %s\n", tb);
	fmt_time(tb, sizeof(tb), &x->stx_mtime, false);
	fprintf(f, "Modify: %s\n", tb);
	fmt_time(tb, sizeof(tb), &x->stx_ctime, false);
	fprintf(f, "Change: %s\n", tb);
	if (x->stx_mask & STATX_BTIME) {
		fmt_time(tb, sizeof(tb), &x->stx_btime, false);
		fprintf(f, " Birth: %s\n", tb);
	} else {
		fprintf(f, " Birth: -\n");
	}
	if (target)
		fputs("Target: ", f), cli_put_str(f, target), fputc('\n', f);
	if (extra)
		fprintf(f, "%s\n", extra);
}

void cli_print_long(FILE *f, const char *name, const struct statx *x, const char *target)
{
	char m[11], tbuf[32];
	cli_mode_string(x->stx_mode, m);
	time_t t = (time_t)x->stx_mtime.tv_sec;
	struct tm tm;
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
	if (S_ISCHR(x->stx_mode) || S_ISBLK(x->stx_mode))
		fprintf(f, "%s %3u %5u %5u %4u, %4u %s ", m, x->stx_nlink, x->stx_uid, x->stx_gid, x->stx_rdev_major,
			x->stx_rdev_minor, tbuf);
	else
		fprintf(f, "%s %3u %5u %5u %10llu %s ", m, x->stx_nlink, x->stx_uid, x->stx_gid,
			(unsigned long long)x->stx_size, tbuf);
	cli_put_str(f, name);
	if (target)
		fputs(" -> ", f), cli_put_str(f, target);
	fputc('\n', f);
}

static const char *type_word(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "link";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	}
	return "unknown";
}

json_t *cli_stat_json(const char *name, const struct statx *x, const char *target)
{
	char m[11], a[64], mo[64], c[64], dev[32], mode[8];
	cli_mode_string(x->stx_mode, m);
	fmt_time(a, sizeof(a), &x->stx_atime, true);
	fmt_time(mo, sizeof(mo), &x->stx_mtime, true);
	fmt_time(c, sizeof(c), &x->stx_ctime, true);
	snprintf(dev, sizeof(dev), "%u:%u", x->stx_dev_major, x->stx_dev_minor);
	snprintf(mode, sizeof(mode), "%04o", x->stx_mode & 07777);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "name", name,
			      "type", type_word(x->stx_mode), "mode", mode, "perms", m, "nlink", (json_int_t)x->stx_nlink,
			      "uid", (json_int_t)x->stx_uid, "gid", (json_int_t)x->stx_gid, "size",
			      (json_int_t)x->stx_size, "blocks", (json_int_t)x->stx_blocks, "ino", (json_int_t)x->stx_ino,
			      "dev", dev, "atime", a, "mtime", mo, "ctime", c);
	if (!j)
		return NULL;
	if (S_ISCHR(x->stx_mode) || S_ISBLK(x->stx_mode)) {
		snprintf(dev, sizeof(dev), "%u:%u", x->stx_rdev_major, x->stx_rdev_minor);
		json_object_set_new(j, "rdev", json_string(dev));
	}
	if (target)
		json_object_set_new(j, "target", json_string(target));
	return j;
}

int cli_json_print(json_t *j)
{
	if (!j)
		return -1;
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
	return rc;
}
