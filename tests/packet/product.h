/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * product.h - programming the data plane the way `limpet run` does, for
 * the packet tests: a configuration written as YAML is loaded by
 * config_load(), turned into a model and programmed by dp_program(); the
 * HTTP services' maps (cookie keys, what XDP reads in first request heads)
 * are written by http_update(). No map value is written by hand, so a map
 * field that the controller writes with one meaning and the data plane
 * reads with another fails a test instead of passing with test-made values.
 */
#ifndef LIMPET_TESTS_PRODUCT_H
#define LIMPET_TESTS_PRODUCT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "dp/program.h"
#include "http/http.h"
#include "model/config.h"
#include "model/model.h"

/* Write <text> to a new file under /tmp; its path into <path> (PATH_MAX). */
static inline void product_write_file(char *path, size_t len, const char *stem, const char *text)
{
	int fd;

	snprintf(path, len, "/tmp/limpet-pkt-%s.XXXXXX", stem);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp %s", path);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The model of the configuration <yaml>, as `limpet run` builds it. */
static inline void product_model(const char *yaml, struct model *m)
{
	struct limpet_config cfg;
	char path[256], err[CONFIG_ERR_MAX];
	int ret;

	product_write_file(path, sizeof(path), "config", yaml);
	ret = config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	cr_assert_eq(ret, 0, "config_load: %s\n%s", err, yaml);
	cr_assert_eq(model_from_config(m, &cfg), 0);
	config_free(&cfg);
}

/* dp_program(): ids, backends, rings, VIPs, as the controller writes them. */
static inline void product_program(struct dataplane *dp, struct model *m)
{
	char err[CONFIG_ERR_MAX];
	int ret = dp_program(dp, m, err, sizeof(err));

	cr_assert_eq(ret, 0, "dp_program: %s", err);
}

/* http_update() without the slow path's sockets: keys and head-reading maps. */
static inline void product_program_http(struct http *h, struct dataplane *dp,
					const struct model *m)
{
	char err[CONFIG_ERR_MAX];
	int ret;

	cr_assert_eq(http_init(h, dp), 0);
	ret = http_update(h, m, -1, err, sizeof(err));
	cr_assert_eq(ret, 0, "http_update: %s", err);
}

#endif /* LIMPET_TESTS_PRODUCT_H */
