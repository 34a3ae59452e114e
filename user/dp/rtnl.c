// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rtnl.c - the rtnetlink socket and dumps (rtnl.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "dp/rtnl.h"

#define NL_BUF 16384

int rtnl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return fd < 0 ? -errno : fd;
}

int rtnl_ask(const struct nlmsghdr *req, void *buf, size_t len)
{
	struct nlmsghdr *nh = buf;
	ssize_t n;
	int fd = rtnl_open(), ret = 0;

	if (fd < 0)
		return fd;
	if (send(fd, req, req->nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, buf, len, 0);
	if (n < 0)
		ret = -errno;
	else if (!NLMSG_OK(nh, (size_t)n))
		ret = -EPROTO;
	else if (nh->nlmsg_type == NLMSG_ERROR)
		ret = ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EPROTO;
out:
	close(fd);
	return ret;
}

int rtnl_dump(const struct nlmsghdr *req, int (*take)(const struct nlmsghdr *nh, void *ctx),
	      void *ctx)
{
	char *buf = malloc(NL_BUF);
	int fd, ret = 0;
	bool done = false;

	if (!buf)
		return -ENOMEM;
	fd = rtnl_open();
	if (fd < 0) {
		free(buf);
		return fd;
	}
	if (send(fd, req, req->nlmsg_len, 0) < 0)
		ret = -errno;
	while (!ret && !done) {
		ssize_t len = recv(fd, buf, NL_BUF, 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		if (len < 0)
			ret = -errno;
		if (len <= 0)
			break;
		for (; !ret && NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR)
				ret = ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EPROTO;
			else
				ret = take(nh, ctx);
		}
	}
	/* Closing mid-dump abandons the rest of it. */
	close(fd);
	free(buf);
	return ret;
}

int rtnl_dump_family(__u16 type, size_t hdr_len, __u8 family,
		     int (*take)(const struct nlmsghdr *nh, void *ctx), void *ctx)
{
	struct {
		struct nlmsghdr nh;
		__u8 hdr[RTNL_DUMP_HDR_MAX];
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(hdr_len), .nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.hdr = { family },
	};

	if (hdr_len > sizeof(req.hdr))
		return -EINVAL;
	return rtnl_dump(&req.nh, take, ctx);
}
