/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * files.h - small file-system helpers the controller's parts share.
 */
#ifndef LIMPET_FILES_H
#define LIMPET_FILES_H

#include <sys/types.h>

/* mkdir -p <path> itself, each new directory with <mode>. 0 or -errno. */
int files_mkdir_p(const char *path, mode_t mode);

/* mkdir -p of everything before the last '/' of <path>. 0 or -errno. */
int files_mkdir_parents(const char *path, mode_t mode);

#endif /* LIMPET_FILES_H */
