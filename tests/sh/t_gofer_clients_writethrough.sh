#!/bin/bash
# t_gofer_clients.sh with -o cache=fscache_writethrough (writes reach the
# host at once, reads from the page cache) and a small page cache bound
# (pcache_max=1m: the clients' files go through eviction): the same
# clients, the same host checks.
GOFER_CACHE=fscache_writethrough GOFER_OPTS=pcache_max=1m exec bash "$(dirname "$0")/t_gofer_clients.sh"
