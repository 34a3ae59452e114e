/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * top.h - `limpet top`: a live view of the running controller's services
 * and backends, redrawn each second from its status and stats replies.
 */
#ifndef LIMPET_TOP_H
#define LIMPET_TOP_H

/* Run until `q` (or SIGINT/SIGTERM, or end of input); returns the exit status. */
int top_run(const char *socket_path);

#endif /* LIMPET_TOP_H */
