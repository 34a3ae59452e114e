/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * manpage.h - limpet(8), the troff man page printed by `limpet help --man`.
 *
 * The COMMANDS section is generated from commands[] (proto/command.h), the
 * table that also drives --help and the argument parser, so the page cannot drift from what
 * the binary accepts. `make man` writes it to build/limpet.8.
 */
#ifndef LIMPET_MANPAGE_H
#define LIMPET_MANPAGE_H

#include <stdio.h>

/* Print the whole page (man(7) macros, section 8) on <out>. */
void manpage_print(FILE *out);

#endif /* LIMPET_MANPAGE_H */
