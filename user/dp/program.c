/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * program.c - program the data plane from the model (program.h).
 *
 * Ids are the link between flows and backends: a flow records a backend id
 * and that backend's generation. So ids are kept in pinned registries and
 * handed back to the same (service, backend) names by every controller,
 * and a reassigned or re-addressed id gets a new generation, which turns the
 * flows still pointing at it stale instead of misrouted.
 *
 * Order of writes: backends, then Maglev tables, then the HTTP routing
 * state (dp/route.c: a removed backend's tag goes before the backend), then rev_nat, then VIPs,
 * and only then the retirement of what the model dropped, so no packet can find a table
 * entry for a backend that is not programmed yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/in.h>

#include "base/log.h"
#include "dp/cluster.h"
#include "dp/internal.h"
#include "dp/maglev.h"
#include "dp/maps.h"
#include "dp/program.h"
#include "dp/route.h"
#include "limpet_hash.h"

#define ID_NONE 0xffffffffu

/* Open-addressing indexes of the registries by name: id + 1, 0 when free. */
#define SERVICE_SLOTS (2 * LIMPET_MAX_SERVICES + 1)
#define BACKEND_SLOTS (2 * LIMPET_MAX_BACKENDS + 1)

/* One commit's view of the ids: the mirrors of the pinned maps (dp/internal.h). */
struct registry {
	struct service_name_value *services;
	struct backend_name_value *backends;
	const struct backend_value *values;	/* the backends map */
	bool service_kept[LIMPET_MAX_SERVICES];
	bool backend_kept[LIMPET_MAX_BACKENDS];
	__u32 service_index[SERVICE_SLOTS];
	__u32 backend_index[BACKEND_SLOTS];
};

static __u64 name_hash(const char *service, const char *name)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *service; service++)
		h = (h ^ (unsigned char)*service) * 0x00000100000001b3ULL;
	h = (h ^ 0xff) * 0x00000100000001b3ULL; /* no byte of a name: a separator */
	for (; name && *name; name++)
		h = (h ^ (unsigned char)*name) * 0x00000100000001b3ULL;
	return h ^ (h >> 29);
}

static void index_add(__u32 *index, __u32 slots, __u64 hash, __u32 id)
{
	__u32 i = hash % slots;

	while (index[i])
		i = (i + 1) % slots;
	index[i] = id + 1;
}

static void registry_add_service(struct registry *reg, __u32 id)
{
	index_add(reg->service_index, SERVICE_SLOTS, name_hash(reg->services[id].name, NULL), id);
}

static void registry_add_backend(struct registry *reg, __u32 id)
{
	index_add(reg->backend_index, BACKEND_SLOTS,
		  name_hash(reg->backends[id].service, reg->backends[id].name), id);
}

static void forget_mirrors(struct dataplane *dp)
{
	free(dp->service_names);
	free(dp->backend_names);
	free(dp->backend_values);
	dp->service_names = NULL;
	dp->backend_names = NULL;
	dp->backend_values = NULL;
}

/* The pinned registries are read once; later commits use the mirrors. */
static int read_mirrors(struct dataplane *dp)
{
	struct service_name_value *services;
	struct backend_name_value *backends;
	struct backend_value *values;
	int ret;

	if (dp->service_names)
		return 0;
	services = calloc(LIMPET_MAX_SERVICES, sizeof(*services));
	backends = calloc(LIMPET_MAX_BACKENDS, sizeof(*backends));
	values = calloc(LIMPET_MAX_BACKENDS, sizeof(*values));
	ret = services && backends && values ? 0 : -ENOMEM;
	if (!ret && !dp->registry_fresh)
		ret = dp_read_service_names(dp, services, LIMPET_MAX_SERVICES);
	if (!ret && !dp->registry_fresh)
		ret = dp_read_backend_names(dp, backends, LIMPET_MAX_BACKENDS);
	if (!ret && !dp->registry_fresh)
		ret = dp_read_backends(dp, values, LIMPET_MAX_BACKENDS);
	if (ret) {
		free(services);
		free(backends);
		free(values);
		return ret;
	}
	dp->service_names = services;
	dp->backend_names = backends;
	dp->backend_values = values;
	return 0;
}

static int registry_read(struct dataplane *dp, struct registry *reg)
{
	__u32 id;
	int ret;

	ret = read_mirrors(dp);
	if (ret)
		return ret;
	reg->services = dp->service_names;
	reg->backends = dp->backend_names;
	reg->values = dp->backend_values;
	for (id = 0; id < LIMPET_MAX_SERVICES; id++)
		if (reg->services[id].in_use)
			registry_add_service(reg, id);
	for (id = 0; id < LIMPET_MAX_BACKENDS; id++)
		if (reg->backends[id].in_use)
			registry_add_backend(reg, id);
	return 0;
}

static __u32 registry_find_service(struct registry *reg, const char *name)
{
	__u32 i = name_hash(name, NULL) % SERVICE_SLOTS, id;

	for (; reg->service_index[i]; i = (i + 1) % SERVICE_SLOTS) {
		id = reg->service_index[i] - 1;
		if (!strcmp(reg->services[id].name, name))
			return id;
	}
	return ID_NONE;
}

static __u32 registry_find_backend(struct registry *reg, const char *service, const char *name)
{
	__u32 i = name_hash(service, name) % BACKEND_SLOTS, id;

	for (; reg->backend_index[i]; i = (i + 1) % BACKEND_SLOTS) {
		id = reg->backend_index[i] - 1;
		if (!strcmp(reg->backends[id].service, service) &&
		    !strcmp(reg->backends[id].name, name))
			return id;
	}
	return ID_NONE;
}

static int assign_service_ids(struct dataplane *dp, struct registry *reg,
			      struct model *model, char *err, size_t errlen)
{
	__u32 next_free = 0;
	size_t i;
	int ret;

	for (i = 0; i < model->n_services; i++) {
		struct service *svc = &model->services[i];
		struct service_name_value val = { .in_use = 1 };

		svc->id = registry_find_service(reg, svc->conf.name);
		if (svc->id == ID_NONE) {
			while (next_free < LIMPET_MAX_SERVICES && reg->services[next_free].in_use)
				next_free++;
			if (next_free == LIMPET_MAX_SERVICES) {
				snprintf(err, errlen, "too many services (limit %d)",
					 LIMPET_MAX_SERVICES);
				return -ENOSPC;
			}
			svc->id = next_free;
			snprintf(val.name, sizeof(val.name), "%s", svc->conf.name);
			ret = dp_set_service_name(dp, svc->id, &val);
			if (ret)
				return ret;
			registry_add_service(reg, svc->id);
			dp_reset_service_counters(dp, svc->id);
			dp_reset_http_bind_counters(dp, svc->id);
		}
		reg->service_kept[svc->id] = true;
	}
	return 0;
}

void dp_backend_route_fields(const struct service *svc, const struct backend *be, bool panic,
			     struct backend_value *val)
{
	val->route_state = model_route_state(be);
	val->weight = model_new_flow_weight(svc, be, panic);
	val->tag = limpet_name_tag(be->conf.name);
}

/*
 * The backend entries a programming writes, collected so that each map
 * gets one batch (100,000 backends: three system calls, not 300,000).
 * Nothing reads them before the rings that name them are swapped in.
 */
struct backend_writes {
	__u32 *name_ids;			/* new backends: names, counters reset */
	struct backend_name_value *names;
	__u32 n_names;
	__u32 *ids;				/* entries that change */
	struct backend_value *vals;
	__u32 n_vals;
};

static int backend_writes_init(struct backend_writes *w, const struct model *model)
{
	size_t i, n = 0;

	for (i = 0; i < model->n_services; i++)
		n += model->services[i].n_backends;
	memset(w, 0, sizeof(*w));
	n = n ? n : 1;
	w->name_ids = calloc(n, sizeof(*w->name_ids));
	w->names = calloc(n, sizeof(*w->names));
	w->ids = calloc(n, sizeof(*w->ids));
	w->vals = calloc(n, sizeof(*w->vals));
	return w->name_ids && w->names && w->ids && w->vals ? 0 : -ENOMEM;
}

static void backend_writes_free(struct backend_writes *w)
{
	free(w->name_ids);
	free(w->names);
	free(w->ids);
	free(w->vals);
}

static int backend_writes_flush(struct dataplane *dp, const struct backend_writes *w)
{
	int ret = dp_set_backend_names(dp, w->name_ids, w->names, w->n_names);

	if (!ret)
		ret = dp_reset_backends_counters(dp, w->name_ids, w->n_names);
	if (!ret)
		ret = dp_set_backends(dp, w->ids, w->vals, w->n_vals);
	return ret;
}

static void program_backend(struct dataplane *dp, const struct registry *reg,
			    const struct service *svc, const struct backend *be, bool fresh,
			    bool panic, struct backend_writes *w)
{
	struct backend_value old = reg->values[be->id], val = {};

	val.addr = be->conf.address.addr;
	val.port = htons(be->conf.port);
	val.family = be->conf.address.family;
	val.state = LIMPET_BACKEND_ACTIVE;
	val.service_id = svc->id;
	dp_backend_route_fields(svc, be, panic, &val);
	val.gen = old.gen;
	/* Until program_rev_nat_owned() says otherwise, after rev_nat. */
	val.rev_nat_owned = old.rev_nat_owned;
	/* A new owner or a new address: flows bound before must not follow. */
	if (fresh || old.state != LIMPET_BACKEND_ACTIVE || memcmp(&old.addr, &val.addr,
	    sizeof(val.addr)) || old.port != val.port || old.family != val.family) {
		val.gen = old.gen + 1;
		val.rev_nat_owned = 0;
	}
	if (memcmp(&old, &val, sizeof(val))) {
		w->ids[w->n_vals] = be->id;
		w->vals[w->n_vals++] = val;
	}
	dp->backends[be->id] = val;
}

static int assign_backend_ids(struct dataplane *dp, struct registry *reg,
			      struct model *model, char *err, size_t errlen)
{
	struct backend_writes w;
	__u32 next_free = 0;
	size_t i, j;
	int ret;

	ret = backend_writes_init(&w, model);
	if (ret)
		goto out;
	for (i = 0; i < model->n_services; i++) {
		struct service *svc = &model->services[i];
		bool panic = model_panics(svc);

		for (j = 0; j < svc->n_backends; j++) {
			struct backend *be = &svc->backends[j];
			struct backend_name_value *val = &w.names[w.n_names];
			bool fresh = false;

			be->id = registry_find_backend(reg, svc->conf.name, be->conf.name);
			if (be->id == ID_NONE) {
				while (next_free < LIMPET_MAX_BACKENDS &&
				       reg->backends[next_free].in_use)
					next_free++;
				if (next_free == LIMPET_MAX_BACKENDS) {
					snprintf(err, errlen, "too many backends (limit %d)",
						 LIMPET_MAX_BACKENDS);
					ret = -ENOSPC;
					goto out;
				}
				be->id = next_free;
				val->in_use = 1;
				snprintf(val->service, sizeof(val->service), "%s", svc->conf.name);
				snprintf(val->name, sizeof(val->name), "%s", be->conf.name);
				w.name_ids[w.n_names++] = be->id;
				/* The registry reads names from the mirror: find it there. */
				dp->backend_names[be->id] = *val;
				registry_add_backend(reg, be->id);
				fresh = true;
			}
			reg->backend_kept[be->id] = true;
			program_backend(dp, reg, svc, be, fresh, panic, &w);
		}
	}
	ret = backend_writes_flush(dp, &w);
out:
	backend_writes_free(&w);
	return ret;
}

/* What <svc>'s Maglev table is built from, by the model's weights for new flows. */
static struct ring_input *ring_inputs(const struct service *svc)
{
	struct ring_input *in = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*in));
	bool panic = model_panics(svc);
	size_t j;

	if (!in)
		return NULL;
	if (panic)
		pr_warn("service %s: every backend is down; routing to all of them",
			svc->conf.name);
	for (j = 0; j < svc->n_backends; j++) {
		in[j].name_hash = name_hash(svc->conf.name, svc->backends[j].conf.name);
		in[j].id = svc->backends[j].id;
		in[j].weight = model_new_flow_weight(svc, &svc->backends[j], panic);
	}
	return in;
}

static int ring_table(const struct service *svc, const struct ring_input *in, __u32 *table)
{
	struct maglev_backend *mb;
	size_t j;
	int ret;

	mb = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (j = 0; j < svc->n_backends; j++) {
		mb[j].name = svc->backends[j].conf.name;
		mb[j].id = in[j].id;
		mb[j].weight = in[j].weight;
	}
	ret = maglev_build(mb, svc->n_backends, svc->conf.ring_size, table);
	free(mb);
	return ret;
}

static void forget_ring(struct dataplane *dp, __u32 service_id)
{
	free(dp->rings[service_id]);
	dp->rings[service_id] = NULL;
	dp->ring_sizes[service_id] = 0;
	free(dp->ring_inputs[service_id]);
	dp->ring_inputs[service_id] = NULL;
	dp->ring_n_inputs[service_id] = 0;
}

static bool ring_unchanged(const struct dataplane *dp, const struct service *svc,
			   const struct ring_input *in)
{
	return dp->rings[svc->id] && dp->ring_sizes[svc->id] == svc->conf.ring_size &&
	       dp->ring_n_inputs[svc->id] == svc->n_backends &&
	       !memcmp(dp->ring_inputs[svc->id], in, sizeof(*in) * svc->n_backends);
}

/*
 * A service's table computed before its backends have ids: slots hold
 * backend indexes (of service.backends), made ids by build_ring(). The table
 * is a pure function of the (name, id, weight) triples and backend names are
 * unique within a service, so names decide the order and index-then-id gives
 * the very table the ids would.
 */
struct ring_plan_entry {
	const struct backend *backends;	/* what it was made from */
	size_t n_backends;
	__u32 size;
	__u32 *weights;			/* per backend, as ring_inputs() gives them */
	__u32 *slots;			/* NULL: none (no memory, or nothing takes flows) */
};

struct dp_ring_plan {
	struct ring_plan_entry *services;	/* as model.services */
	size_t n_services;
	size_t n_taken;
};

static void plan_service(const struct service *svc, struct ring_plan_entry *e)
{
	/* ring_table()'s inputs with indexes for ids (no name hashes needed). */
	struct ring_input *in = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*in));
	bool panic = model_panics(svc);
	size_t j;

	e->backends = svc->backends;
	e->n_backends = svc->n_backends;
	e->size = svc->conf.ring_size;
	e->weights = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*e->weights));
	e->slots = malloc(sizeof(*e->slots) * e->size);
	if (in && e->weights && e->slots) {
		for (j = 0; j < svc->n_backends; j++) {
			in[j].id = j;
			in[j].weight = model_new_flow_weight(svc, &svc->backends[j], panic);
			e->weights[j] = in[j].weight;
		}
		if (!ring_table(svc, in, e->slots)) {
			free(in);
			return;
		}
	}
	free(in);
	free(e->slots);
	e->slots = NULL;
}

struct dp_ring_plan *dp_plan_rings(const struct model *model)
{
	struct dp_ring_plan *plan = calloc(1, sizeof(*plan));
	size_t i;

	if (!plan)
		return NULL;
	plan->services = calloc(model->n_services ? model->n_services : 1,
				sizeof(*plan->services));
	if (!plan->services) {
		free(plan);
		return NULL;
	}
	plan->n_services = model->n_services;
	for (i = 0; i < model->n_services; i++)
		plan_service(&model->services[i], &plan->services[i]);
	return plan;
}

void dp_ring_plan_free(struct dp_ring_plan *plan)
{
	size_t i;

	if (!plan)
		return;
	for (i = 0; i < plan->n_services; i++) {
		free(plan->services[i].weights);
		free(plan->services[i].slots);
	}
	free(plan->services);
	free(plan);
}

/* <svc>'s planned table as ids, taken from <e>; NULL when it does not fit. */
static __u32 *planned_table(const struct service *svc, const struct ring_input *in,
			    struct ring_plan_entry *e)
{
	__u32 *table, k;
	size_t j;

	if (!e || !e->slots || e->backends != svc->backends ||
	    e->n_backends != svc->n_backends || e->size != svc->conf.ring_size)
		return NULL;
	for (j = 0; j < svc->n_backends; j++)
		if (e->weights[j] != in[j].weight)
			return NULL;
	table = e->slots;
	for (k = 0; k < e->size; k++)
		table[k] = in[table[k]].id;
	e->slots = NULL;
	return table;
}

size_t dp_ring_plan_taken(const struct dp_ring_plan *plan)
{
	return plan ? plan->n_taken : 0;
}

/* A table built and not swapped in yet. */
struct ring_change {
	__u32 service_id;
	__u32 size;
	__u32 *table;
	struct ring_input *in;
	__u32 n_in;
};

static void keep_ring(struct dataplane *dp, struct ring_change *ch)
{
	forget_ring(dp, ch->service_id);
	dp->rings[ch->service_id] = ch->table;
	dp->ring_sizes[ch->service_id] = ch->size;
	dp->ring_inputs[ch->service_id] = ch->in;
	dp->ring_n_inputs[ch->service_id] = ch->n_in;
	ch->table = NULL;
	ch->in = NULL;
}

/* Build the table of <svc> into <ch> unless nothing it is built from changed
 * (at 1,000 services a reload must not rebuild 1,000 tables to change one).
 * Returns 1 when <ch> holds a table to swap in, 0 when there is none.
 */
static int build_ring(struct dataplane *dp, const struct service *svc,
		      struct ring_plan_entry *planned, struct ring_change *ch)
{
	int ret = 0;

	ch->service_id = svc->id;
	ch->size = svc->conf.ring_size;
	ch->n_in = svc->n_backends;
	ch->in = ring_inputs(svc);
	if (!ch->in)
		return -ENOMEM;
	if (ring_unchanged(dp, svc, ch->in)) {
		free(ch->in);
		ch->in = NULL;
		return 0;
	}
	ch->table = planned_table(svc, ch->in, planned);
	if (!ch->table) {
		ch->table = malloc(sizeof(*ch->table) * ch->size);
		if (!ch->table)
			return -ENOMEM;
		ret = ring_table(svc, ch->in, ch->table);
	}
	if (ret == -ENOENT) {
		forget_ring(dp, svc->id);
		return dp_clear_ring(dp, svc->id); /* nothing takes new flows */
	}
	if (ret)
		return ret;
	if (dp->ring_sizes[svc->id] == ch->size &&
	    !memcmp(dp->rings[svc->id], ch->table, sizeof(*ch->table) * ch->size)) {
		keep_ring(dp, ch); /* same table from new inputs (a weight 0 -> down) */
		return 0;
	}
	return 1;
}

static void drop_change(struct ring_change *ch)
{
	free(ch->table);
	free(ch->in);
	memset(ch, 0, sizeof(*ch));
}

/* Every service's table, the changed ones swapped in with one batch. */
static int program_rings(struct dataplane *dp, const struct model *model,
			 struct dp_ring_plan *plan)
{
	struct ring_change *ch = calloc(model->n_services + 1, sizeof(*ch));
	__u32 *ids = calloc(model->n_services + 1, sizeof(*ids));
	int *fds = calloc(model->n_services + 1, sizeof(*fds));
	size_t i, n = 0;
	int ret = ch && ids && fds ? 0 : -ENOMEM;

	for (i = 0; !ret && i < model->n_services; i++) {
		struct ring_plan_entry *planned =
			plan && i < plan->n_services ? &plan->services[i] : NULL;
		bool had_plan = planned && planned->slots;

		ret = build_ring(dp, &model->services[i], planned, &ch[n]);
		if (had_plan && !planned->slots)
			plan->n_taken++;
		if (ret == 1)
			ret = dp_ring_new(ch[n].table, ch[n].size);
		else if (!ret)
			ret = -ENODATA; /* nothing to swap in */
		if (ret >= 0) {
			ids[n] = ch[n].service_id;
			fds[n++] = ret;
			ret = 0;
			continue;
		}
		drop_change(&ch[n]);
		if (ret == -ENODATA)
			ret = 0;
	}
	if (!ret)
		ret = dp_keep_prev_rings(dp, ids, n);
	if (!ret)
		ret = dp_rings_swap(dp, ids, fds, n);
	for (i = 0; i < n; i++) {
		close(fds[i]);
		if (!ret)
			keep_ring(dp, &ch[i]);
		drop_change(&ch[i]);
	}
	free(ch);
	free(ids);
	free(fds);
	return ret;
}

void dp_vip_of(const struct service *svc, struct vip_key *key, struct vip_value *val)
{
	const struct service_config *c = &svc->conf;

	memset(key, 0, sizeof(*key));
	key->addr = c->vip.addr;
	key->port = htons(c->port);
	key->proto = c->protocol;
	key->family = c->vip.family;
	memset(val, 0, sizeof(*val));
	val->service_id = svc->id;
	val->hash = c->affinity.type == LIMPET_AFFINITY_NONE ? LIMPET_HASH_TUPLE :
							       LIMPET_HASH_CLIENT;
	val->forwarding = c->forwarding;
	if (c->mode != SERVICE_MODE_HTTP)
		return;
	val->mode = LIMPET_MODE_HTTP;
	if (c->affinity.type == LIMPET_AFFINITY_COOKIE)
		val->head_read = LIMPET_HEAD_READ_COOKIE;
	else if (c->affinity.type == LIMPET_AFFINITY_HEADER)
		val->head_read = LIMPET_HEAD_READ_HEADERS;
}

static int program_vip(struct dataplane *dp, const struct service *svc)
{
	struct vip_value val;
	struct vip_key key;

	dp_vip_of(svc, &key, &val);
	return dp_set_vip(dp, &key, &val);
}

/*
 * rev_nat: who un-NATs a backend address:port's replies without a flow
 * entry. Every backend of an L4 NAT service claims its address:port; HTTP
 * services keep per-flow return entries (they translate sequence numbers),
 * DSR replies never pass through. Where several services claim one key,
 * the service that owned it keeps it, so its flows (which have no return
 * entries) keep their replies; the others' flows get return entries (lb.h).
 * Sorted, so a configuration of many backends costs n log n.
 */
static int rev_claim_cmp(const void *a, const void *b)
{
	const struct rev_claim *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	/* An L4 service's claim first: it wins (LIMPET_REV_NAT_SPLICED). */
	c = (x->val.flags & LIMPET_REV_NAT_SPLICED) - (y->val.flags & LIMPET_REV_NAT_SPLICED);
	if (c)
		return c;
	return x->val.service_id < y->val.service_id ? -1 : x->val.service_id > y->val.service_id;
}

static int rev_key_cmp(const void *a, const void *b)
{
	const struct rev_claim *y = b;

	return memcmp(a, &y->key, sizeof(y->key));
}

/* Every claim of <model>, sorted; *n set. NULL with *n 0: none, or no memory. */
static struct rev_claim *rev_claims(const struct model *model, size_t *n)
{
	struct rev_claim *c;
	size_t i, j, total = 0;

	*n = 0;
	for (i = 0; i < model->n_services; i++)
		total += model->services[i].n_backends;
	c = calloc(total ? total : 1, sizeof(*c));
	if (!c)
		return NULL;
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		bool spliced = svc->conf.mode == SERVICE_MODE_HTTP;

		/* An HTTP service's replies need a claim only on a cluster node. */
		if ((spliced && !model->conf.cluster.enabled) ||
		    (!spliced && svc->conf.forwarding != LIMPET_FWD_NAT))
			continue;
		for (j = 0; j < svc->n_backends; j++) {
			const struct backend *be = &svc->backends[j];
			struct rev_claim *rc = &c[(*n)++];

			rc->key.addr = be->conf.address.addr;
			rc->key.port = htons(be->conf.port);
			rc->key.proto = svc->conf.protocol;
			rc->key.family = be->conf.address.family;
			rc->val.vip = svc->conf.vip.addr;
			rc->val.vip_port = htons(svc->conf.port);
			rc->val.service_id = svc->id;
			rc->val.backend_id = be->id;
			if (spliced)
				rc->val.flags = LIMPET_REV_NAT_SPLICED;
			else if (model->conf.cluster.enabled)
				rc->val.flags = LIMPET_REV_NAT_ANY_NODE;
		}
	}
	qsort(c, *n, sizeof(*c), rev_claim_cmp);
	return c;
}

/*
 * What rev_nat holds, sorted as claims are (one read, not a lookup per
 * claim and a walk of the map). *n set; NULL on error (errno set).
 */
static struct rev_claim *rev_nat_read(struct dataplane *dp, size_t *n)
{
	/* One more than the map holds: a full map still ends its walk. */
	const __u32 cap = LIMPET_MAX_BACKENDS + 1;
	struct rev_nat_value *vals = calloc(cap, sizeof(*vals));
	struct rev_nat_key *keys = calloc(cap, sizeof(*keys));
	struct rev_claim *have = NULL;
	__u32 count = 0, i;
	int ret = keys && vals ? 0 : -ENOMEM;

	if (!ret)
		ret = dp_read_rev_nat(dp, keys, vals, cap, &count);
	if (!ret) {
		have = calloc(count ? count : 1, sizeof(*have));
		ret = have ? 0 : -ENOMEM;
	}
	for (i = 0; !ret && i < count; i++) {
		have[i].key = keys[i];
		have[i].val = vals[i];
	}
	if (!ret)
		qsort(have, count, sizeof(*have), rev_claim_cmp);
	free(keys);
	free(vals);
	*n = ret ? 0 : count;
	errno = -ret;
	return ret ? NULL : have;
}

/*
 * What rev_nat holds: the mirror of the last commit, else read back (a
 * start, a restart, or a commit that failed half-way). NULL on error
 * (errno set).
 */
static const struct rev_claim *rev_nat_have(struct dataplane *dp, size_t *n)
{
	if (!dp->rev_nat) {
		dp->rev_nat = rev_nat_read(dp, &dp->n_rev_nat);
		if (!dp->rev_nat)
			return NULL;
	}
	*n = dp->n_rev_nat;
	return dp->rev_nat;
}

static void forget_rev_nat(struct dataplane *dp)
{
	free(dp->rev_nat);
	dp->rev_nat = NULL;
	dp->n_rev_nat = 0;
}

/*
 * Write one entry per claimed key (those that change: <have> is what
 * rev_nat holds), before the VIPs that use them. The entries wanted, one
 * per key in key order, go to *want (*n_want of them).
 */
static int program_rev_nat(struct dataplane *dp, const struct rev_claim *c, size_t n,
			   const struct rev_claim *have, size_t n_have, struct rev_claim **want,
			   size_t *n_want)
{
	struct rev_nat_value *vals = calloc(n ? n : 1, sizeof(*vals));
	struct rev_nat_key *keys = calloc(n ? n : 1, sizeof(*keys));
	struct rev_claim *w = calloc(n ? n : 1, sizeof(*w));
	size_t i = 0, j, end, last, pick;
	__u32 n_writes = 0;
	int ret;

	*want = NULL;
	*n_want = 0;
	if (!keys || !vals || !w) {
		free(keys);
		free(vals);
		free(w);
		return -ENOMEM;
	}
	while (i < n) {
		const struct rev_claim *old;

		for (end = i + 1; end < n && !memcmp(&c[end].key, &c[i].key, sizeof(c[i].key));
		     end++)
			;
		/* L4 claims sort first; where there are some, HTTP ones lose. */
		for (last = i + 1; last < end && (c[last].val.flags & LIMPET_REV_NAT_SPLICED) ==
							 (c[i].val.flags & LIMPET_REV_NAT_SPLICED);
		     last++)
			;
		pick = i;	/* the lowest service id, unless the owner still claims it */
		old = bsearch(&c[i].key, have, n_have, sizeof(*have), rev_key_cmp);
		for (j = i; old && j < last; j++)
			if (c[j].val.service_id == old->val.service_id) {
				pick = j;
				break;
			}
		if (!old || memcmp(&old->val, &c[pick].val, sizeof(old->val))) {
			keys[n_writes] = c[i].key;
			vals[n_writes++] = c[pick].val;
		}
		w[*n_want].key = c[i].key;
		w[(*n_want)++].val = c[pick].val;
		i = end;
	}
	ret = dp_set_rev_nats(dp, keys, vals, n_writes);
	free(keys);
	free(vals);
	*want = w;
	return ret;
}

/* Remove the entries no backend claims any more. */
/*
 * An unclaimed entry of a backend removed from the configuration stays while
 * its id is not given to another backend: the connections it still holds
 * (a drain that reached its deadline) keep their replies un-NATed, so their
 * clients answer, meet the stale entry and are reset by the backend the
 * table now names, instead of hanging. Reusing the id removes it.
 */
static bool rev_nat_of_retired(struct dataplane *dp, const struct rev_claim *entry)
{
	const struct backend_value *be;

	if (entry->val.backend_id >= LIMPET_MAX_BACKENDS)
		return false;
	be = &dp->backends[entry->val.backend_id];
	return be->state == LIMPET_BACKEND_UNUSED && be->port == entry->key.port &&
	       !memcmp(&be->addr, &entry->key.addr, sizeof(be->addr));
}

/*
 * Delete the entries of <have> (what rev_nat held) that no claim of <c>
 * names, and keep what rev_nat then holds as the mirror: <want> (the
 * claimed keys' entries, in key order; taken) and the retired backends'
 * entries left in place, merged in key order.
 */
static int retire_rev_nat(struct dataplane *dp, const struct rev_claim *c, size_t n,
			  const struct rev_claim *have, size_t n_have, struct rev_claim *want,
			  size_t n_want)
{
	struct rev_claim *kept = calloc(n_want + n_have + 1, sizeof(*kept));
	size_t i, w = 0, k = 0;
	int ret = kept ? 0 : -ENOMEM;

	for (i = 0; !ret && i < n_have; i++) {
		if (bsearch(&have[i].key, c, n, sizeof(*c), rev_key_cmp))
			continue;
		if (!rev_nat_of_retired(dp, &have[i])) {
			ret = dp_del_rev_nat(dp, &have[i].key);
			continue;
		}
		/* Unclaimed, so no key of <want>: merge it in. */
		while (w < n_want && memcmp(&want[w].key, &have[i].key, sizeof(want[w].key)) < 0)
			kept[k++] = want[w++];
		kept[k++] = have[i];
	}
	while (!ret && w < n_want)
		kept[k++] = want[w++];
	free(want);
	forget_rev_nat(dp);
	if (ret) {
		free(kept);
		return ret;
	}
	dp->rev_nat = kept;
	dp->n_rev_nat = k;
	return 0;
}

/*
 * Each backend's rev_nat_owned, once rev_nat holds what this commit wrote
 * (dp->rev_nat): set where rev_nat gives the backend's address:port to its
 * service, so its flows' SYNs record no return entry; cleared where it no
 * longer does. Set only after the entry is there: a SYN that skipped its
 * return entry needs rev_nat for its SYN-ACK.
 */
static int program_rev_nat_owned(struct dataplane *dp, const struct model *model)
{
	struct backend_writes w;
	size_t i, j;
	int ret = backend_writes_init(&w, model);

	for (i = 0; !ret && i < model->n_services; i++) {
		const struct service *svc = &model->services[i];

		for (j = 0; j < svc->n_backends; j++) {
			const struct backend *be = &svc->backends[j];
			struct backend_value val = dp->backends[be->id];
			const struct rev_claim *entry;
			struct rev_nat_key key = {
				.addr = be->conf.address.addr,
				.port = htons(be->conf.port),
				.proto = svc->conf.protocol,
				.family = be->conf.address.family,
			};
			__u8 owned;

			entry = bsearch(&key, dp->rev_nat, dp->n_rev_nat, sizeof(*dp->rev_nat),
					rev_key_cmp);
			owned = entry && entry->val.service_id == svc->id;
			if (val.state != LIMPET_BACKEND_ACTIVE || val.rev_nat_owned == owned)
				continue;
			val.rev_nat_owned = owned;
			w.ids[w.n_vals] = be->id;
			w.vals[w.n_vals++] = val;
		}
	}
	if (!ret)
		ret = dp_set_backends(dp, w.ids, w.vals, w.n_vals);
	for (i = 0; !ret && i < w.n_vals; i++)
		dp->backends[w.ids[i]] = w.vals[i];
	backend_writes_free(&w);
	return ret;
}

static bool model_has_vip(const struct model *model, const struct vip_key *key)
{
	struct vip_value v;
	struct vip_key k;
	size_t i;

	for (i = 0; i < model->n_services; i++) {
		dp_vip_of(&model->services[i], &k, &v);
		if (!memcmp(&k, key, sizeof(k)))
			return true;
	}
	return false;
}

static int retire_vips(struct dataplane *dp, const struct model *model)
{
	struct vip_key key, next, stale[LIMPET_MAX_SERVICES];
	const struct vip_key *prev = NULL;
	size_t n = 0, i;

	/* Collect first: deleting while walking a hash map restarts the walk. */
	while (!dp_next_vip(dp, prev, &next)) {
		if (!model_has_vip(model, &next) && n < LIMPET_MAX_SERVICES)
			stale[n++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < n; i++) {
		int ret = dp_del_vip(dp, &stale[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static int retire_unused(struct dataplane *dp, struct registry *reg)
{
	struct service_name_value no_service = {};
	struct backend_name_value no_backend = {};
	__u32 id;
	int ret;

	for (id = 0; id < LIMPET_MAX_BACKENDS; id++) {
		struct backend_value be = reg->values[id];

		if (!reg->backends[id].in_use || reg->backend_kept[id])
			continue;
		pr_info("backend %s/%s retired (id %u)", reg->backends[id].service,
			reg->backends[id].name, id);
		/* Keep gen: the next owner bumps it, so old flows stay stale. */
		be.state = LIMPET_BACKEND_UNUSED;
		be.weight = 0;
		ret = dp_set_backend(dp, id, &be);
		if (!ret)
			ret = dp_set_backend_name(dp, id, &no_backend);
		if (ret)
			return ret;
		dp->backends[id] = be;
	}
	for (id = 0; id < LIMPET_MAX_SERVICES; id++) {
		if (!reg->services[id].in_use || reg->service_kept[id])
			continue;
		pr_info("service %s retired (id %u)", reg->services[id].name, id);
		forget_ring(dp, id);
		ret = dp_clear_ring(dp, id);
		/* Its id may go to another service: its sessions must not follow. */
		if (!ret)
			ret = dp_route_sessions_forget_service(dp, id);
		if (!ret)
			ret = dp_set_service_name(dp, id, &no_service);
		if (ret)
			return ret;
	}
	return 0;
}

int dp_program(struct dataplane *dp, struct model *model, char *err, size_t errlen)
{
	return dp_program_planned(dp, model, NULL, err, errlen);
}

int dp_program_planned(struct dataplane *dp, struct model *model, struct dp_ring_plan *plan,
		       char *err, size_t errlen)
{
	struct rev_claim *claims = NULL, *want = NULL;
	size_t i, n_claims = 0, n_have = 0, n_want = 0;
	const struct rev_claim *have = NULL;
	struct registry *reg;
	int ret;

	err[0] = '\0';
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	ret = registry_read(dp, reg);
	if (!ret)
		ret = assign_service_ids(dp, reg, model, err, errlen);
	if (!ret)
		ret = assign_backend_ids(dp, reg, model, err, errlen);
	if (!ret)
		ret = program_rings(dp, model, plan);
	if (!ret)
		ret = dp_program_routes(dp, model);
	if (!ret)
		ret = dp_program_cluster(dp, model);
	if (!ret) {
		claims = rev_claims(model, &n_claims);
		have = claims ? rev_nat_have(dp, &n_have) : NULL;
		ret = !claims ? -ENOMEM : !have ? -errno : 0;
	}
	if (!ret)
		ret = program_rev_nat(dp, claims, n_claims, have, n_have, &want, &n_want);
	for (i = 0; !ret && i < model->n_services; i++)
		ret = program_vip(dp, &model->services[i]);
	if (!ret)
		ret = retire_vips(dp, model);
	if (!ret)
		ret = retire_unused(dp, reg);
	/* After retire_unused(): it tells a removed backend's entries. */
	if (!ret) {
		ret = retire_rev_nat(dp, claims, n_claims, have, n_have, want, n_want);
		want = NULL;
	}
	if (!ret)
		ret = program_rev_nat_owned(dp, model);
	/* A commit that failed half-way: what rev_nat holds is read again. */
	if (ret)
		forget_rev_nat(dp);
	free(want);
	free(claims);
	if (ret && !err[0])
		snprintf(err, errlen, "cannot program the data plane: %s", strerror(-ret));
	free(reg);
	return ret;
}

const struct backend_value *dp_backend(const struct dataplane *dp, __u32 id)
{
	if (id >= LIMPET_MAX_BACKENDS || dp->backends[id].state != LIMPET_BACKEND_ACTIVE)
		return NULL;
	return &dp->backends[id];
}

const __u32 *dp_ring(const struct dataplane *dp, __u32 service_id, __u32 *size)
{
	if (service_id >= LIMPET_MAX_SERVICES || !dp->rings[service_id])
		return NULL;
	*size = dp->ring_sizes[service_id];
	return dp->rings[service_id];
}

int dp_expire_ring_grace(struct dataplane *dp)
{
	return dp_expire_prev_rings(dp);
}

void dp_forget_programmed(struct dataplane *dp)
{
	__u32 id;

	for (id = 0; id < LIMPET_MAX_SERVICES; id++)
		forget_ring(dp, id);
	dp_forget_routes(dp);
	forget_mirrors(dp);
	forget_rev_nat(dp);
}
