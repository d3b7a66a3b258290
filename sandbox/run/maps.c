/* sandbox/run/maps.c — mappings made writable by mprotect.
 *
 * A shared mapping of a tree file that becomes writable is noted by the
 * mmap handler (dispatch.c) when it is mapped so; one mapped read-only and
 * made writable later by mprotect(PROT_WRITE) must be noted too, or stores
 * that do not fault (a page already writable and dirty) never reach the
 * tree. The filter sends mprotect and pkey_mprotect only when PROT_WRITE
 * is asked (filter.c); the handler finds in /proc/<tid>/maps which shared
 * mappings of the range are placeholders' memfds, marks their vfds mapped
 * (vfd.c: compared by hash at every sync from now on) and lets the kernel
 * do the call (CONTINUE). Marking before the kernel acts is harmless when
 * the call fails: the file is only hashed for nothing. */
#include <stdio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

#define ARG(i) (c->req->data.args[(i)])

long run_h_mprotect(struct run_call *c)
{
	struct run_sup *s = c->s;
	c->cont = true;
	/* a shared mapping can be made writable only through a file opened
	 * for writing (VM_MAYWRITE): none of ours, nothing to find */
	if (!s->reg_list)
		return 0;
	uint64_t lo = ARG(0), len = ARG(1);
	uint64_t hi = lo + len < lo ? UINT64_MAX : lo + len;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)c->pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return 0; /* it died meanwhile */
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, ino;
		unsigned maj, min;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s %*x %x:%x %llu", &start, &end, perms, &maj, &min, &ino) != 6)
			continue;
		if (start >= hi)
			break; /* the lines are sorted by address */
		if (end <= lo || perms[3] != 's' || makedev(maj, min) != s->memfd_dev)
			continue;
		struct run_vfd *v = run_vfd_find(s, s->memfd_dev, ino);
		if (v)
			run_vfd_mapped(s, v);
	}
	fclose(f);
	return 0;
}
