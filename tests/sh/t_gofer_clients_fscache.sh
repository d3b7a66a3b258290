#!/bin/bash
# t_gofer_clients.sh with -o cache=fscache (page cache, complete
# directories, trusted dentries): the same clients, the same host checks.
GOFER_CACHE=fscache exec bash "$(dirname "$0")/t_gofer_clients.sh"
