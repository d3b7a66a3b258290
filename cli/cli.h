/* cli/cli.h — the uvfs command line's subcommands.
 *
 * Each subcommand lives in cli/cmd_<name>.c and defines cmd_<name>().
 * main.c declares them weak, so a subcommand whose file is absent reports
 * "not built" instead of breaking the link. */
#pragma once

int cmd_demo(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_tree(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_9p(int argc, char **argv);
int cmd_verity(int argc, char **argv);
