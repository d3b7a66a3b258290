/* cli/cli.h — the uvfs command line's subcommands.
 *
 * Each subcommand lives in cli/cmd_<name>.c and defines cmd_<name>().
 * main.c declares them weak, so a subcommand whose file is absent reports
 * "not built" instead of breaking the link. Exit status of every command:
 * 0 success, 1 operation failed, 2 usage error, 3 teardown found leaks. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

int cmd_demo(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_tree(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_9p(int argc, char **argv);
int cmd_verity(int argc, char **argv);

/* cli/help.c: prints the help of "cmd sub" (if sub names one) or of cmd;
 * -1 if there is none. */
int cli_help_print(FILE *f, const char *cmd, const char *sub);
bool cli_help_has(const char *cmd);
