// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * commands.c - the controller's side of the control socket (commands.h).
 * TEMPORARY port of the old handlers onto the model; replaced by the
 * table-driven version.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "model/model.h"
#include "proto/control.h"
#include "run/commands.h"
#include "run/controller.h"
#include "run/report.h"

static json_t *commit_or_error(struct controller *c, struct model *next)
{
	char err[CONFIG_ERR_MAX];

	if (controller_commit(c, next, err, sizeof(err)))
		return control_reply_error("%s", err);
	return NULL;
}

static json_t *handle_backend_add(struct controller *c, const json_t *req)
{
	struct backend be = { .conf.weight = 1 };
	struct service *svc;
	const char *name = json_string_value(json_object_get(req, "name"));
	const char *address = json_string_value(json_object_get(req, "address"));
	const char *sname = json_string_value(json_object_get(req, "service"));
	json_t *reply, *port, *weight;
	struct model next;
	size_t i;

	svc = model_find_service(controller_model(c), sname);
	if (!svc)
		return control_reply_error("unknown service '%s'", sname ? sname : "");
	if (!name || !name[0] || strlen(name) >= sizeof(be.conf.name))
		return control_reply_error("backend add: invalid name");
	if (model_find_backend(svc, name))
		return control_reply_error("backend '%s' already exists in service '%s'", name,
					   svc->conf.name);
	if (!address || parse_ip_address(address, &be.conf.address))
		return control_reply_error("backend add: invalid address '%s'",
					   address ? address : "");
	if (be.conf.address.family != svc->conf.vip.family)
		return control_reply_error("backend add: address %s is not of the same family "
					   "as the VIP of service '%s'", address, svc->conf.name);
	port = json_object_get(req, "port");
	weight = json_object_get(req, "weight");
	be.conf.port = port ? json_integer_value(port) : svc->conf.port;
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535))
		return control_reply_error("backend add: port must be 1-65535");
	if (weight && (!json_is_integer(weight) || json_integer_value(weight) < 0 ||
		       json_integer_value(weight) > 65535))
		return control_reply_error("backend add: weight must be 0-65535");
	if (weight)
		be.conf.weight = json_integer_value(weight);
	for (i = 0; i < svc->n_backends; i++) {
		const struct backend_config *o = &svc->backends[i].conf;

		if (o->port == be.conf.port && o->address.family == be.conf.address.family &&
		    !memcmp(&o->address.addr, &be.conf.address.addr, sizeof(be.conf.address.addr)))
			return control_reply_error("backend add: %s port %u is already backend "
						   "'%s' of service '%s'", address, be.conf.port,
						   o->name, svc->conf.name);
	}
	snprintf(be.conf.name, sizeof(be.conf.name), "%s", name);
	if (model_copy(&next, controller_model(c)))
		return control_reply_error("out of memory");
	if (model_add_backend(model_find_service(&next, svc->conf.name), &be)) {
		model_free(&next);
		return control_reply_error("out of memory");
	}
	reply = commit_or_error(c, &next);
	if (reply)
		return reply;
	pr_info("backend %s/%s added (%s port %u weight %u)", sname, name, address, be.conf.port,
		be.conf.weight);
	return control_reply_ok(NULL);
}

/* The backend of <req> in a copy of the model, or NULL and an error reply. */
static struct backend *edit_target(struct controller *c, const json_t *req, struct model *next,
				   struct service **svc, json_t **reply)
{
	const char *sname = json_string_value(json_object_get(req, "service"));
	const char *name = json_string_value(json_object_get(req, "name"));
	struct backend *be;

	*svc = model_find_service(controller_model(c), sname);
	if (!*svc) {
		*reply = control_reply_error("unknown service '%s'", sname ? sname : "");
		return NULL;
	}
	if (!model_find_backend(*svc, name)) {
		*reply = control_reply_error("unknown backend '%s' in service '%s'",
					     name ? name : "", (*svc)->conf.name);
		return NULL;
	}
	if (model_copy(next, controller_model(c))) {
		*reply = control_reply_error("out of memory");
		return NULL;
	}
	*svc = model_find_service(next, sname);
	be = model_find_backend(*svc, name);
	return be;
}

static json_t *handle_backend_edit(struct controller *c, const json_t *req, const char *cmd)
{
	struct service *svc;
	struct backend *be;
	struct model next;
	json_t *reply = NULL;

	be = edit_target(c, req, &next, &svc, &reply);
	if (!be)
		return reply;
	if (!strcmp(cmd, "backend_remove")) {
		char name[LIMPET_NAME_MAX];

		snprintf(name, sizeof(name), "%s", be->conf.name);
		model_remove_backend(svc, be - svc->backends);
		reply = commit_or_error(c, &next);
		if (!reply)
			pr_info("backend %s/%s removed", svc->conf.name, name);
		return reply ? reply : control_reply_ok(NULL);
	}
	if (!strcmp(cmd, "backend_drain")) {
		json_t *timeout = json_object_get(req, "timeout_ms");
		__u64 ms = svc->conf.drain_timeout_ms;

		if (timeout) {
			if (!json_is_integer(timeout) || json_integer_value(timeout) <= 0) {
				model_free(&next);
				return control_reply_error("backend drain: invalid timeout");
			}
			ms = json_integer_value(timeout);
		}
		be->draining = true;
		be->drain_deadline_ms = clock_mono_ms() + ms;
		pr_info("backend %s/%s draining for %llu ms", svc->conf.name, be->conf.name,
			(unsigned long long)ms);
	} else if (!strcmp(cmd, "backend_undrain")) {
		be->draining = false;
		be->drain_deadline_ms = 0;
		pr_info("backend %s/%s undrained", svc->conf.name, be->conf.name);
	} else {
		json_t *weight = json_object_get(req, "weight");

		if (!json_is_integer(weight) || json_integer_value(weight) < 0 ||
		    json_integer_value(weight) > 65535) {
			model_free(&next);
			return control_reply_error("backend weight: weight must be 0-65535");
		}
		be->conf.weight = json_integer_value(weight);
		pr_info("backend %s/%s weight %u", svc->conf.name, be->conf.name, be->conf.weight);
	}
	reply = commit_or_error(c, &next);
	return reply ? reply : control_reply_ok(NULL);
}

json_t *commands_serve(struct controller *c, const json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	if (!cmd)
		return control_reply_error("bad request: no cmd");
	pr_debug("request %s", cmd);
	if (!strcmp(cmd, "status"))
		return report_reply(controller_status(c));
	if (!strcmp(cmd, "stats"))
		return report_reply(controller_stats(c));
	if (!strcmp(cmd, "backend_add"))
		return handle_backend_add(c, req);
	if (!strcmp(cmd, "backend_remove") || !strcmp(cmd, "backend_drain") ||
	    !strcmp(cmd, "backend_undrain") || !strcmp(cmd, "backend_weight"))
		return handle_backend_edit(c, req, cmd);
	if (!strcmp(cmd, "reload"))
		return controller_reload(c);
	if (!strcmp(cmd, "keys_rotate"))
		return controller_rotate_keys(c);
	if (!strcmp(cmd, "shutdown")) {
		controller_stop(c);
		return control_reply_ok(NULL);
	}
	return control_reply_error("unknown command '%s'", cmd);
}
