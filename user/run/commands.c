// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * commands.c - serve the control socket's commands (commands.h).
 *
 * A request is parsed once, by command_from_request(), and dispatched by its
 * enum command_id through handlers[]. The backend commands never edit the
 * running model: they edit a copy (model_copy()) and hand it to
 * controller_commit(), which programs the data plane and the HTTP side from
 * it, or keeps the running model and says why. `backend add` applies the
 * file's rules (model/rules.h) to the new backend, so it refuses exactly
 * what a configuration file would, in the same words, prefixed
 * "backend add: <key>: ".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "model/model.h"
#include "model/rules.h"
#include "proto/command.h"
#include "proto/control.h"
#include "run/commands.h"
#include "run/controller.h"

typedef json_t *(*handler_fn)(struct controller *c, const struct command_args *a);

/* ---- finding what a request names --------------------------------------- */

/*
 * The service <a> names in <m> and, when <be> is given, its backend; NULL,
 * or the error reply naming what is missing.
 */
static json_t *find_target(const struct model *m, const struct command_args *a,
			   struct service **svc, struct backend **be)
{
	*svc = model_find_service(m, a->service);
	if (!*svc)
		return control_reply_error("unknown service '%s'", a->service);
	if (!be)
		return NULL;
	*be = model_find_backend(*svc, a->name);
	if (!*be)
		return control_reply_error("unknown backend '%s' in service '%s'", a->name,
					   a->service);
	return NULL;
}

/* A copy of the running model, with the service and backend <a> names in it. */
static json_t *edit_begin(struct controller *c, const struct command_args *a, struct model *next,
			  struct service **svc, struct backend **be)
{
	json_t *reply;

	reply = find_target(controller_model(c), a, svc, be);
	if (reply)
		return reply;
	if (model_copy(next, controller_model(c)))
		return control_reply_error("out of memory");
	/* Found in the running model, so in its copy too. */
	return find_target(next, a, svc, be);
}

/* Make <next> the running model; it is taken (or freed) either way. */
static json_t *edit_commit(struct controller *c, struct model *next)
{
	char err[CONFIG_ERR_MAX];

	if (controller_commit(c, next, err, sizeof(err)))
		return control_reply_error("%s", err);
	return NULL;
}

/* ---- backend commands ---------------------------------------------------- */

/* Would the file take <be> in <svc> of <m>? The rules in the file's order. */
static json_t *check_new_backend(const struct model *m, const struct service *svc,
				 const struct backend_config *be)
{
	char why[VALUE_WHY_MAX];
	const char *key = "name";
	size_t i, total = 1;

	for (i = 0; i < svc->n_backends; i++)
		if (rule_backend_name_clash(be, &svc->backends[i].conf, why, sizeof(why)))
			goto refuse;
	if (rule_backend_fits(&svc->conf, be, &key, why, sizeof(why)))
		goto refuse;
	key = "address";
	for (i = 0; i < svc->n_backends; i++)
		if (rule_backend_endpoint_clash(be, &svc->backends[i].conf, why, sizeof(why)))
			goto refuse;
	key = "backends";
	for (i = 0; i < m->n_services; i++)
		total += m->services[i].n_backends;
	if (rule_backends_total(total, why, sizeof(why)))
		goto refuse;
	key = "ring_size";
	if (rule_ring_holds(&svc->conf, svc->n_backends + 1, why, sizeof(why)))
		goto refuse;
	return NULL;
refuse:
	return control_reply_error("%s: %s: %s", commands[CMD_BACKEND_ADD].name, key, why);
}

static json_t *handle_backend_add(struct controller *c, const struct command_args *a)
{
	struct backend be = { 0 };
	struct service *svc;
	struct model next;
	json_t *reply;

	reply = find_target(controller_model(c), a, &svc, NULL);
	if (reply)
		return reply;
	snprintf(be.conf.name, sizeof(be.conf.name), "%s", a->name);
	be.conf.address = a->address;
	be.conf.port = a->has_port ? a->port : svc->conf.port;
	be.conf.weight = a->has_weight ? a->weight : 1;
	reply = check_new_backend(controller_model(c), svc, &be.conf);
	if (!reply)
		reply = edit_begin(c, a, &next, &svc, NULL);
	if (reply)
		return reply;
	if (model_add_backend(svc, &be)) {
		model_free(&next);
		return control_reply_error("out of memory");
	}
	reply = edit_commit(c, &next);
	if (reply)
		return reply;
	pr_info("backend %s/%s added (%s port %u weight %u)", a->service, a->name,
		a->address_text, be.conf.port, be.conf.weight);
	return control_reply_ok(NULL);
}

static json_t *handle_backend_remove(struct controller *c, const struct command_args *a)
{
	struct service *svc;
	struct backend *be;
	struct model next;
	json_t *reply;

	reply = edit_begin(c, a, &next, &svc, &be);
	if (reply)
		return reply;
	model_remove_backend(svc, be - svc->backends);
	reply = edit_commit(c, &next);
	if (reply)
		return reply;
	pr_info("backend %s/%s removed", a->service, a->name);
	return control_reply_ok(NULL);
}

/* Drain, undrain or re-weight one backend: the same edit of a copy. */
static json_t *edit_backend(struct controller *c, const struct command_args *a)
{
	struct service *svc;
	struct backend *be;
	struct model next;
	json_t *reply;
	__u64 ms;

	reply = edit_begin(c, a, &next, &svc, &be);
	if (reply)
		return reply;
	switch (a->id) {
	case CMD_BACKEND_DRAIN:
		ms = a->has_timeout ? a->timeout_ms : svc->conf.drain_timeout_ms;
		be->draining = true;
		be->drain_deadline_ms = clock_mono_ms() + ms;
		pr_info("backend %s/%s draining for %llu ms", a->service, a->name,
			(unsigned long long)ms);
		break;
	case CMD_BACKEND_UNDRAIN:
		/* Saying yes would hide a typo'd name or a drain that already ended. */
		if (!be->draining) {
			model_free(&next);
			return control_reply_error("backend undrain: backend '%s' of service '%s' "
						   "is not draining", a->name, a->service);
		}
		be->draining = false;
		be->drain_deadline_ms = 0;
		pr_info("backend %s/%s undrained", a->service, a->name);
		break;
	default:
		be->conf.weight = a->weight;
		pr_info("backend %s/%s weight %u", a->service, a->name, a->weight);
		break;
	}
	reply = edit_commit(c, &next);
	return reply ? reply : control_reply_ok(NULL);
}

/* ---- the others ---------------------------------------------------------- */

/* "cannot read the data plane" when a report has no result. */
static json_t *report_reply(json_t *result)
{
	if (!result)
		return control_reply_error("cannot read the data plane");
	return control_reply_ok(result);
}

static json_t *handle_status(struct controller *c, const struct command_args *a)
{
	return report_reply(controller_status(c));
}

static json_t *handle_status_rows(struct controller *c, const struct command_args *a)
{
	return report_reply(controller_status_rows(c));
}

static json_t *handle_stats(struct controller *c, const struct command_args *a)
{
	return report_reply(controller_stats(c));
}

static json_t *handle_reload(struct controller *c, const struct command_args *a)
{
	return controller_reload(c);
}

static json_t *handle_keys_rotate(struct controller *c, const struct command_args *a)
{
	return controller_rotate_keys(c);
}

static json_t *handle_node(struct controller *c, const struct command_args *a)
{
	return controller_node(c, a->id == CMD_NODE_DRAIN, a->has_timeout, a->timeout_ms);
}

static json_t *handle_shutdown(struct controller *c, const struct command_args *a)
{
	controller_stop(c);
	return control_reply_ok(NULL);
}

/* The commands run here; the local ones (run, down, version, help) never come. */
static const handler_fn handlers[CMD_MAX] = {
	[CMD_STATUS] = handle_status,
	[CMD_STATUS_ROWS] = handle_status_rows,
	[CMD_STATS] = handle_stats,
	[CMD_BACKEND_ADD] = handle_backend_add,
	[CMD_BACKEND_REMOVE] = handle_backend_remove,
	[CMD_BACKEND_DRAIN] = edit_backend,
	[CMD_BACKEND_UNDRAIN] = edit_backend,
	[CMD_BACKEND_WEIGHT] = edit_backend,
	[CMD_RELOAD] = handle_reload,
	[CMD_KEYS_ROTATE] = handle_keys_rotate,
	[CMD_NODE_DRAIN] = handle_node,
	[CMD_NODE_UNDRAIN] = handle_node,
	[CMD_SHUTDOWN] = handle_shutdown,
};

json_t *commands_serve(struct controller *c, const json_t *request)
{
	char err[COMMAND_ERR_MAX];
	struct command_args a;
	json_t *reply;

	if (command_from_request(request, &a, err, sizeof(err)))
		return control_reply_error("%s", err);
	pr_debug("request %s", commands[a.id].request);
	if (!handlers[a.id])
		return control_reply_error("unknown command '%s'", commands[a.id].request);
	reply = handlers[a.id](c, &a);
	return reply ? reply : control_reply_error("%s: internal error", commands[a.id].name);
}
