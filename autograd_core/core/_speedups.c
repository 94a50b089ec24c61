/* Optional compiled bookkeeping for the backward driver of autograd_core.engine.
 *
 * This file knows no derivative: it walks the graph (the topological order),
 * adds up `local * g` products, and adds the results into `.grad`. The local
 * derivatives are the ones the primitives' rules stored on the nodes. The
 * pure Python code in engine.py (`_order`, `_backprop`, `Value.backward`) is
 * the readable reference and the fallback when this module is not built;
 * this file gives the same order and does the same floating-point additions
 * in the same order, and tests/test_speedups.py compares both bit for bit.
 *
 * How it differs from the reference (speed only, not results):
 * - walk(): the reference's depth-first search with one frame per node
 *   instead of pushing a node twice; it numbers the nodes and records each
 *   node's parents' numbers, so propagation needs no lookup. Value.backward's
 *   walk keeps each node's number in the node (IS_MARK: an odd pointer in its
 *   .grad slot, always put back before any Python code can run); the other
 *   walks use a table that hashes pointers keeping their locality (nodes made
 *   one after the other sit next to each other in the table).
 * - Gradients that are Python floats are kept as C doubles (grad_t), with the
 *   IEEE operations Python uses (built with -ffp-contract=off so the compiler
 *   fuses no multiply-add); anything else (numpy arrays, LocalMap, Values)
 *   goes through the same number protocol calls as the Python code.
 * - Value.backward's common case (all floats, fused_backward) adds each
 *   node's gradient into .grad as soon as it is complete, in one pass.
 * - One set of walk buffers is kept for the next call (spare_t).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

static PyTypeObject *node_type = NULL;
static PyTypeObject *value_type = NULL;
static Py_ssize_t off_parents = -1, off_local = -1, off_grad = -1;
static Py_ssize_t off_data = -1, off_label = -1, off_prim = -1, off_param = -1, off_seq = -1;
/* Creation numbers (engine._next_seq, the same steps): seq_now (an int object
 * shared by a block of SEQ_BLOCK nodes) only grows. All under the GIL. */
#define SEQ_BLOCK 64
static unsigned long long seq_ticks = 0, seq_first = 1;
static PyObject *seq_now = NULL;
static PyObject *zero = NULL, *empty_str = NULL, *empty_tuple = NULL, *grad_var = NULL;
/* engine.creation_hook (a ContextVar) and how many captures watch it: node()
 * reads the variable only while some capture is running (static replay order). */
static PyObject *creation_var = NULL;
static Py_ssize_t creation_watchers = 0;
static PyObject *str_acquire = NULL, *str_release = NULL;

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

static Py_ssize_t
member_offset(PyObject *descr, const char *what)
{
    if (!PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "_speedups.setup: %s is not a slot", what);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
    if (m->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "_speedups.setup: %s is not an object slot", what);
        return -1;
    }
    return m->offset;
}

/* setup(Node, Value, grad_mode_var, descriptors, first_seq): the slots'
 * offsets, from the member descriptors of Node._data, label, _parents,
 * _local, _prim, _param, _seq and Value.grad; creation numbers go on from
 * first_seq (>= 1). */
static PyObject *
setup(PyObject *self, PyObject *args)
{
    PyObject *nt, *vt, *var, *d[8];
    unsigned long long first = 1;
    if (!PyArg_ParseTuple(args, "O!O!O(OOOOOOOO)|K", &PyType_Type, &nt, &PyType_Type, &vt, &var,
                          &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7], &first))
        return NULL;
    static const char *names[8] = {"_data", "label", "_parents", "_local", "_prim", "_param", "_seq",
                                   "grad"};
    Py_ssize_t off[8];
    for (int i = 0; i < 8; i++)
        if ((off[i] = member_offset(d[i], names[i])) < 0)
            return NULL;
    if (!PyContextVar_CheckExact(var)) {
        PyErr_SetString(PyExc_TypeError, "_speedups.setup: grad mode must be a ContextVar");
        return NULL;
    }
    Py_XSETREF(node_type, (PyTypeObject *)Py_NewRef(nt));
    Py_XSETREF(value_type, (PyTypeObject *)Py_NewRef(vt));
    Py_XSETREF(grad_var, Py_NewRef(var));
    off_data = off[0];
    off_label = off[1];
    off_parents = off[2];
    off_local = off[3];
    off_prim = off[4];
    off_param = off[5];
    off_seq = off[6];
    off_grad = off[7];
    if (first < 1)
        first = 1;
    /* the numbers only grow, also when setup is called again */
    if (seq_now == NULL || first > PyLong_AsUnsignedLongLong(seq_now)) {
        PyObject *n = PyLong_FromUnsignedLongLong(first);
        if (n == NULL)
            return NULL;
        Py_XSETREF(seq_now, n);
        seq_first = first;
        seq_ticks = 0;
    }
    Py_RETURN_NONE;
}

/* The parents tuple of node n (borrowed), or NULL with an exception. */
static PyObject *
parents_of(PyObject *n)
{
    if (node_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.setup was not called");
        return NULL;
    }
    if (!Py_IS_TYPE(n, value_type) && !PyObject_TypeCheck(n, node_type)) {
        PyErr_Format(PyExc_TypeError, "graph node expected, got %.100s", Py_TYPE(n)->tp_name);
        return NULL;
    }
    PyObject *ps = SLOT(n, off_parents);
    if (ps == NULL || !PyTuple_Check(ps)) {
        PyErr_SetString(PyExc_AttributeError, "node without a parents tuple");
        return NULL;
    }
    return ps;
}

/* A growable stack of strong references. */
typedef struct {
    PyObject **items;
    Py_ssize_t size, cap;
} stack_t;

static int
stack_push(stack_t *s, PyObject *o)
{
    if (s->size == s->cap) {
        Py_ssize_t cap = s->cap ? 2 * s->cap : 64;
        PyObject **items = PyMem_Realloc(s->items, cap * sizeof(PyObject *));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->size++] = Py_NewRef(o);
    return 0;
}

static void
stack_clear(stack_t *s)
{
    while (s->size)
        Py_DECREF(s->items[--s->size]);
    PyMem_Free(s->items);
    s->items = NULL;
    s->cap = 0;
}

/* A hash table from node pointers to their index in the order (or -1 while
 * the node's parents are being visited): open addressing, linear probing. */
typedef struct {
    PyObject *key;
    Py_ssize_t val;
} entry_t; /* key and value on one cache line */

typedef struct {
    entry_t *e;
    size_t mask, used, cap; /* cap: entries allocated (>= mask + 1) */
} table_t;

static inline size_t
hash_ptr(PyObject *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p >> 4;
    return (size_t)(h ^ (h >> 20) ^ (h >> 40));
}

/* An empty table for about `want` keys, in buf (cap entries; taken over,
 * or freed when too small) or in new memory. */
static int
table_init_in(table_t *t, entry_t *buf, size_t cap, size_t want)
{
    size_t n = 4096;
    while (n < 2 * want && n < ((size_t)1 << 40))
        n *= 2;
    t->mask = n - 1;
    t->used = 0;
    if (buf != NULL && cap >= n) {
        t->e = buf;
        t->cap = cap;
        memset(buf, 0, n * sizeof(entry_t));
        return 0;
    }
    PyMem_Free(buf);
    t->cap = n;
    t->e = PyMem_Calloc(n, sizeof(entry_t));
    if (t->e == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static int
table_init(table_t *t)
{
    return table_init_in(t, NULL, 0, 0);
}

static void
table_free(table_t *t)
{
    PyMem_Free(t->e);
    t->e = NULL;
}

/* The slot of key p (its key is p, or NULL where p would go). */
static inline size_t
table_slot(const table_t *t, PyObject *p)
{
    size_t i = hash_ptr(p) & t->mask;
    while (t->e[i].key != NULL && t->e[i].key != p)
        i = (i + 1) & t->mask;
    return i;
}

/* Set the value of p, whose slot table_slot(t, p) is i. */
static int
table_set_at(table_t *t, size_t i, PyObject *p, Py_ssize_t v)
{
    if (t->e[i].key == NULL) {
        if (2 * (t->used + 1) > t->mask + 1) { /* grow to keep it at most half full */
            table_t n;
            n.mask = 2 * t->mask + 1;
            n.used = t->used;
            n.cap = n.mask + 1;
            n.e = PyMem_Calloc(n.mask + 1, sizeof(entry_t));
            if (n.e == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            for (size_t j = 0; j <= t->mask; j++)
                if (t->e[j].key != NULL)
                    n.e[table_slot(&n, t->e[j].key)] = t->e[j];
            table_free(t);
            *t = n;
            i = table_slot(t, p);
        }
        t->e[i].key = p;
        t->used++;
    }
    t->e[i].val = v;
    return 0;
}

static int
table_set(table_t *t, PyObject *p, Py_ssize_t v)
{
    return table_set_at(t, table_slot(t, p), p, v);
}

/* Whether the walk does not go behind n: its creation number is below
 * limit (0: no limit; a node without a number is never cut), or it is in
 * stop. 1, 0, or -1 with an exception. */
static int
is_cut(PyObject *n, PyObject *stop, long long limit)
{
    if (limit > 0 && off_seq >= 0) {
        PyObject *q = SLOT(n, off_seq);
        if (q != NULL && PyLong_CheckExact(q)) {
            int overflow;
            long long v = PyLong_AsLongLongAndOverflow(q, &overflow);
            if (v == -1 && PyErr_Occurred())
                return -1;
            if (!overflow && v < limit)
                return 1;
        }
    }
    return stop != NULL ? PySet_Contains(stop, n) : 0;
}

/* The walk: engine._order's depth-first search (a node's parents in order,
 * each one's subgraph emitted before the next, the node after its parents),
 * written with one frame per node instead of pushing a node twice; the
 * emission order is the same. Every node found gets a number (its vid, in
 * the order found: the root is 0) and the walk records, for each node it
 * goes behind, its parents' vids, so propagation needs no lookup. All state
 * is local to the call (thread-safe). */
/* A node's gradient while it is propagated: none yet (o == NULL), a float
 * kept as a C double (o == AS_DOUBLE), or any other object (o, strong).
 * The double path does exactly the IEEE operations of Python's floats. */
typedef struct {
    double d;
    PyObject *o;
} grad_t;

static char as_double_mark;
#define AS_DOUBLE ((PyObject *)&as_double_mark)

/* Node numbers and edge offsets are 32-bit (a graph of 2**31 nodes would
 * need hundreds of GB): less memory for the walk to write and read back. */
typedef int32_t ix_t;
#define IX_MAX INT32_MAX

typedef struct {
    PyObject *node; /* strong */
    ix_t eoff;      /* its parents' vids are edges[eoff .. eoff + npar) */
    ix_t npar;      /* 0: a leaf, or a cut (the walk does not go behind it) */
    PyObject *old;  /* a marked walk: the .grad its mark stands in for */
} vinfo_t;

/* A marked walk (Value.backward's, see walk()) finds a node's number in its
 * .grad slot: an odd pointer, which no object has, stands there during the
 * call instead of the .grad (kept in vinfo_t.old and always put back). */
#define IS_MARK(o) (((uintptr_t)(o)) & 1u)
#define MARK(vid) ((PyObject *)((((uintptr_t)(vid)) << 1) | 1u))
#define MARK_VID(o) ((Py_ssize_t)(((uintptr_t)(o)) >> 1))
#define NOT_MARKABLE (-2)

typedef struct {
    Py_ssize_t vid, j, k;
    PyObject *ps; /* strong: the parents tuple being walked */
} frame_t;

/* A walk's growable buffers (capacities in items), apart from its table. */
typedef struct {
    vinfo_t *v;
    Py_ssize_t vcap;
    ix_t *emit;        /* vids in emission (topological) order */
    Py_ssize_t emcap;
    ix_t *edges;
    Py_ssize_t ecap;
    frame_t *f;
    Py_ssize_t fcap;
    grad_t *gs;        /* gs[vid]: the gradients (grads_new) */
    Py_ssize_t gcap;
} bufs_t;

typedef struct {
    table_t t;         /* node -> vid (borrowed keys: v holds the nodes) */
    bufs_t b;
    Py_ssize_t nv, nemit, nedges;
    Py_ssize_t nf, fmax; /* fmax: the deepest the frames went */
    Py_ssize_t gn;     /* gradient entries in use */
    int strong;        /* whether v holds (and frames hold) references */
    int marked;        /* nodes found through marks in .grad, not the table */
} walk_t;

/* One set of buffers a finished walk gives back and the next one takes (a
 * free list, like CPython's own): a backward over a big graph then does not
 * ask the system for fresh memory (and fault in its pages) every time.
 * Taken and given back whole under the GIL, so two calls (threads, or a
 * backward run from inside another one) never share buffers: a call that
 * finds the list empty allocates its own. Buffers much larger than the last
 * walk needed are freed rather than kept: what stays is bounded by a few
 * times the scratch memory (about 115 bytes a node of a wide graph, 240 of
 * a deep chain) of the last walk. */
typedef struct {
    int full;
    size_t last_n;     /* nodes of the walk that gave it back */
    entry_t *te;       /* its table's entries (tcap of them) */
    size_t tcap;
    bufs_t b;
} spare_t;

#ifdef Py_GIL_DISABLED
#define USE_SPARE 0 /* the list relies on the GIL */
#else
#define USE_SPARE 1
#endif
static spare_t spare;

static void grads_clear(grad_t *gs, Py_ssize_t n);

/* At most this much is kept (graphs of up to about half a million nodes). */
#define SPARE_MAX ((size_t)64 << 20)

static void
bufs_free(bufs_t *b)
{
    PyMem_Free(b->v);
    PyMem_Free(b->emit);
    PyMem_Free(b->edges);
    PyMem_Free(b->f);
    PyMem_Free(b->gs);
    memset(b, 0, sizeof(*b));
}

static size_t
spare_bytes(void)
{
    if (!spare.full)
        return 0;
    const bufs_t *b = &spare.b;
    return spare.tcap * sizeof(entry_t) + (size_t)b->vcap * sizeof(vinfo_t)
           + (size_t)b->emcap * sizeof(ix_t) + (size_t)b->ecap * sizeof(ix_t)
           + (size_t)b->fcap * sizeof(frame_t) + (size_t)b->gcap * sizeof(grad_t);
}

static void
spare_release(void)
{
    PyMem_Free(spare.te);
    bufs_free(&spare.b);
    memset(&spare, 0, sizeof(spare));
}

/* Keep a buffer of cap items of size sz for later, unless it is much larger
 * than the `used` items needed this time (then it is freed). */
static void *
keep(void *p, Py_ssize_t *cap, Py_ssize_t used, size_t sz)
{
    if (p != NULL && (size_t)*cap * sz > ((size_t)1 << 20) && *cap > 4 * (used > 0 ? used : 1)) {
        PyMem_Free(p);
        p = NULL;
    }
    if (p == NULL)
        *cap = 0;
    return p;
}

static void
walk_free(walk_t *w)
{
    if (w->gn > 0)
        grads_clear(w->b.gs, w->gn);
    if (w->strong) {
        for (Py_ssize_t i = 0; i < w->nf; i++)
            Py_DECREF(w->b.f[i].ps);
        for (Py_ssize_t i = 0; i < w->nv; i++)
            Py_DECREF(w->b.v[i].node);
    }
    if (USE_SPARE && !spare.full) { /* give the buffers back, but not much more than needed */
        bufs_t *b = &w->b;
        Py_ssize_t tcap = (Py_ssize_t)w->t.cap;
        spare.te = keep(w->t.e, &tcap, (Py_ssize_t)(2 * w->t.used), sizeof(entry_t));
        spare.tcap = (size_t)tcap;
        b->v = keep(b->v, &b->vcap, w->nv, sizeof(vinfo_t));
        b->emit = keep(b->emit, &b->emcap, w->nv, sizeof(ix_t));
        b->edges = keep(b->edges, &b->ecap, w->nedges, sizeof(ix_t));
        b->f = keep(b->f, &b->fcap, w->fmax, sizeof(frame_t));
        b->gs = keep(b->gs, &b->gcap, w->nv, sizeof(grad_t));
        spare.b = *b;
        spare.last_n = (size_t)w->nv;
        spare.full = 1;
        if (spare_bytes() > SPARE_MAX)
            spare_release();
    }
    else {
        table_free(&w->t);
        bufs_free(&w->b);
    }
    memset(w, 0, sizeof(*w));
}

/* Grow *p (*cap items of size sz) to hold at least `need` items. */
static int
grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    if ((size_t)c > (size_t)PY_SSIZE_T_MAX / sz) {
        PyErr_NoMemory();
        return -1;
    }
    void *q = PyMem_Realloc(*p, (size_t)c * sz);
    if (q == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *p = q;
    *cap = c;
    return 0;
}

/* Number node n (not in the table yet; i is its table slot) and either emit
 * it (a leaf or a cut) or open a frame to walk its parents. 0, or -1. */
static int
walk_enter(walk_t *w, PyObject *n, size_t i, PyObject *stop, long long limit, Py_ssize_t *vid_out)
{
    if (w->marked && (!Py_IS_TYPE(n, value_type) || IS_MARK(SLOT(n, off_grad))))
        return NOT_MARKABLE; /* not a Value (no .grad slot to mark) */
    PyObject *ps = parents_of(n);
    if (ps == NULL)
        return -1;
    Py_ssize_t k = PyTuple_GET_SIZE(ps);
    int cut = 0;
    if (k > 0 && (stop != NULL || limit > 0) && (cut = is_cut(n, stop, limit)) < 0)
        return -1;
    Py_ssize_t vid = w->nv;
    if (vid >= IX_MAX || w->nedges > IX_MAX - k) {
        PyErr_SetString(PyExc_MemoryError, "graph too large for the compiled backward driver "
                        "(2**31 nodes or edges); AUTOGRAD_CORE_PURE_PYTHON=1 runs the Python one");
        return -1;
    }
    if (grow((void **)&w->b.v, &w->b.vcap, vid + 1, sizeof(vinfo_t)) < 0
        || grow((void **)&w->b.emit, &w->b.emcap, vid + 1, sizeof(ix_t)) < 0
        || (!w->marked && table_set_at(&w->t, i, n, vid) < 0))
        return -1;
    w->b.v[vid].node = w->strong ? Py_NewRef(n) : n;
    w->b.v[vid].eoff = (ix_t)w->nedges;
    w->b.v[vid].npar = 0;
    if (w->marked) { /* recorded first: unmark() puts back every mark of v[0 .. nv) */
        w->b.v[vid].old = SLOT(n, off_grad);
        SLOT(n, off_grad) = MARK(vid);
    }
    w->nv++;
    *vid_out = vid;
    if (k == 0 || cut) {
        w->b.emit[w->nemit++] = (ix_t)vid;
        return 0;
    }
    if (grow((void **)&w->b.edges, &w->b.ecap, w->nedges + k, sizeof(ix_t)) < 0
        || grow((void **)&w->b.f, &w->b.fcap, w->nf + 1, sizeof(frame_t)) < 0)
        return -1;
    w->b.v[vid].npar = (ix_t)k;
    w->nedges += k;
    frame_t *f = &w->b.f[w->nf++];
    if (w->nf > w->fmax)
        w->fmax = w->nf;
    f->vid = vid;
    f->j = 0;
    f->k = k;
    f->ps = w->strong ? Py_NewRef(ps) : ps;
    return 0;
}

/* Put back the .grad of every node a marked walk marked. */
static void
unmark(walk_t *w)
{
    if (!w->marked)
        return;
    for (Py_ssize_t i = 0; i < w->nv; i++)
        SLOT(w->b.v[i].node, off_grad) = w->b.v[i].old;
    w->marked = 0;
}

/* Fill w (zeroed first; free it with walk_free also on failure). 0, or -1;
 * NOT_MARKABLE for a marked walk that met a node that is not a Value.
 * With strong == 0 the walk takes no references: only for a walk that runs
 * no Python code and is used before any runs (no stop set: its membership
 * test could run a __hash__). With marked (strong == 0, no stop or limit):
 * each node's number is put in its .grad slot instead of a table (no
 * lookups, no table to clear), for Value.backward's one-pass case, which
 * writes every .grad anew or calls unmark(); on failure the walk unmarks. */
static int
walk(walk_t *w, PyObject *root, PyObject *stop, long long limit, int strong, int marked)
{
    memset(w, 0, sizeof(*w));
    w->strong = strong || stop != NULL;
    w->marked = marked && !w->strong && limit == 0 && value_type != NULL;
    entry_t *te = NULL;
    size_t tcap = 0, want = 0;
    if (USE_SPARE && spare.full) { /* take the spare buffers */
        te = spare.te;
        tcap = spare.tcap;
        want = spare.last_n;
        w->b = spare.b;
        memset(&spare, 0, sizeof(spare));
    }
    if (w->marked) { /* the table is not used: keep its buffer for the next walk */
        w->t.e = te;
        w->t.cap = tcap;
        w->t.mask = 0;
        w->t.used = want / 2;
    }
    else if (table_init_in(&w->t, te, tcap, want) < 0)
        return -1;
    Py_ssize_t vid;
    int r = walk_enter(w, root, w->marked ? 0 : table_slot(&w->t, root), stop, limit, &vid);
    if (r < 0) {
        unmark(w);
        return r;
    }
    while (w->nf) {
        frame_t *f = &w->b.f[w->nf - 1];
        if (f->j == f->k) { /* its parents are all emitted: emit it */
            w->b.emit[w->nemit++] = (ix_t)f->vid;
            if (w->strong)
                Py_DECREF(f->ps);
            w->nf--;
            continue;
        }
        PyObject *p = PyTuple_GET_ITEM(f->ps, f->j);
        Py_ssize_t at = w->b.v[f->vid].eoff + f->j;
        f->j++;
        if (w->marked) {
            PyObject *m = Py_IS_TYPE(p, value_type) ? SLOT(p, off_grad) : NULL;
            if (m != NULL && IS_MARK(m))
                vid = MARK_VID(m); /* found already */
            else if ((r = walk_enter(w, p, 0, stop, limit, &vid)) < 0) {
                unmark(w);
                return r;
            }
            w->b.edges[at] = (ix_t)vid;
            continue;
        }
        size_t i = table_slot(&w->t, p);
        if (w->t.e[i].key != NULL) /* emitted already (in a cycle: on the path) */
            vid = w->t.e[i].val;
        else if (walk_enter(w, p, i, stop, limit, &vid) < 0) /* may move w->b.f */
            return -1;
        w->b.edges[at] = (ix_t)vid;
    }
    return 0;
}

/* The emission order as a list (engine._order). */
static PyObject *
walk_order(const walk_t *w)
{
    PyObject *order = PyList_New(w->nemit);
    if (order == NULL)
        return NULL;
    for (Py_ssize_t e = 0; e < w->nemit; e++)
        PyList_SET_ITEM(order, e, Py_NewRef(w->b.v[w->b.emit[e]].node));
    return order;
}

static int
check_stop(PyObject *stop)
{
    if (stop != Py_None && !PyAnySet_Check(stop)) {
        PyErr_SetString(PyExc_TypeError, "stop must be a set or None");
        return -1;
    }
    return 0;
}

static PyObject *
order(PyObject *self, PyObject *args)
{
    PyObject *root, *stop;
    long long limit = 0;
    if (!PyArg_ParseTuple(args, "OO|L", &root, &stop, &limit) || check_stop(stop) < 0)
        return NULL;
    walk_t w;
    PyObject *res = NULL;
    if (walk(&w, root, stop == Py_None ? NULL : stop, limit, 1, 0) == 0)
        res = walk_order(&w);
    walk_free(&w);
    return res;
}

/* Drop the objects gs[0 .. n) hold; every entry is then empty. */
static void
grads_clear(grad_t *gs, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (gs[i].o != NULL && gs[i].o != AS_DOUBLE)
            Py_DECREF(gs[i].o);
        gs[i].o = NULL;
    }
}

/* The gradient as an object (a new reference): 0.0 for none. */
static PyObject *
grad_object(const grad_t *g)
{
    if (g->o == AS_DOUBLE)
        return PyFloat_FromDouble(g->d);
    return Py_NewRef(g->o != NULL ? g->o : zero);
}

/* Replace the gradient by res (stolen). */
static void
grad_store(grad_t *g, PyObject *res)
{
    PyObject *old = g->o;
    if (PyFloat_CheckExact(res)) {
        g->d = PyFloat_AS_DOUBLE(res);
        g->o = AS_DOUBLE;
        Py_DECREF(res);
    }
    else
        g->o = res;
    if (old != NULL && old != AS_DOUBLE)
        Py_DECREF(old);
}

/* The walk's gradient array, every entry empty (w owns it), or NULL. */
static grad_t *
grads_new(walk_t *w)
{
    Py_ssize_t n = w->nv > 0 ? w->nv : 1;
    if (grow((void **)&w->b.gs, &w->b.gcap, n, sizeof(grad_t)) < 0)
        return NULL;
    memset(w->b.gs, 0, (size_t)n * sizeof(grad_t));
    w->gn = n;
    return w->b.gs;
}

/* engine._backprop without create_graph, after walk(): the walk's gradient
 * array with gs[vid] = seed * d root / d node, or NULL (then every entry is
 * empty again). */
static grad_t *
propagate(walk_t *w, PyObject *seed)
{
    grad_t *gs = grads_new(w);
    if (gs == NULL)
        return NULL;
    grad_store(&gs[0], Py_NewRef(seed)); /* the root is vid 0 */
    for (Py_ssize_t e = w->nemit - 1; e >= 0; e--) {
        Py_ssize_t vid = w->b.emit[e];
        const vinfo_t *vi = &w->b.v[vid];
        Py_ssize_t k = vi->npar;
        if (k == 0)
            continue; /* a leaf, or a cut: nothing is passed on */
        grad_t *g = &gs[vid];
        if (g->o == NULL) {
            PyErr_SetObject(PyExc_KeyError, vi->node);
            goto error;
        }
        PyObject *ls = SLOT(vi->node, off_local);
        if (ls == NULL || !PyTuple_Check(ls) || PyTuple_GET_SIZE(ls) != k) {
            PyErr_SetString(PyExc_ValueError, "a node's local derivatives do not match its parents");
            goto error;
        }
        Py_INCREF(ls);
        const ix_t *par = w->b.edges + vi->eoff;
        PyObject *gobj = NULL; /* g as an object, made when first needed */
        int failed = 0;
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *l = PyTuple_GET_ITEM(ls, j);
            grad_t *pg = &gs[par[j]];
            if (g->o == AS_DOUBLE && PyFloat_CheckExact(l) && (pg->o == NULL || pg->o == AS_DOUBLE)) {
                double prod = PyFloat_AS_DOUBLE(l) * g->d; /* old + l * g, as Python does it */
                pg->d = (pg->o == NULL ? 0.0 : pg->d) + prod;
                pg->o = AS_DOUBLE;
                continue;
            }
            if (gobj == NULL && (gobj = grad_object(g)) == NULL) {
                failed = 1;
                break;
            }
            PyObject *old = grad_object(pg);
            PyObject *prod = old == NULL ? NULL : PyNumber_Multiply(l, gobj);
            PyObject *res = prod == NULL ? NULL : PyNumber_Add(old, prod);
            Py_XDECREF(prod);
            Py_XDECREF(old);
            if (res == NULL) {
                failed = 1;
                break;
            }
            grad_store(pg, res); /* gs cannot move: no Python code can reach it */
        }
        Py_XDECREF(gobj);
        Py_DECREF(ls);
        if (failed)
            goto error;
    }
    return gs;
error:
    grads_clear(gs, w->nv);
    return NULL;
}

/* Value.backward's common case in one pass (after walk()): the root and
 * every node are Values whose .grad is a float, every local derivative is a
 * float and the seed is a float. Walking the emission order backwards, a
 * node's gradient is complete when it is reached: it is added into .grad
 * there and then passed on to the parents -- the same additions, in the same
 * order, as propagate() followed by the accumulation loop, but each node is
 * read once instead of twice. No Python code runs. As soon as a node is
 * found outside that case (or memory runs out) every .grad written so far
 * is put back: 0 (not this case; nothing changed), 1 (done), -1 (error,
 * nothing changed). The caller holds the accumulation lock. */
static int
fused_backward(walk_t *w, PyObject *seed, grad_t *gs)
{
    if (!PyFloat_CheckExact(seed) || value_type == NULL) {
        unmark(w);
        return 0;
    }
    gs[0].d = PyFloat_AS_DOUBLE(seed);
    gs[0].o = AS_DOUBLE;
    int res = 1;
    Py_ssize_t e;
    for (e = w->nemit - 1; e >= 0; e--) {
        Py_ssize_t vid = w->b.emit[e];
        const vinfo_t *vi = &w->b.v[vid];
        PyObject *n = vi->node;
        grad_t *g = &gs[vid];
        PyObject *old = w->marked ? vi->old : Py_IS_TYPE(n, value_type) ? SLOT(n, off_grad) : NULL;
        if (g->o != AS_DOUBLE || old == NULL || !PyFloat_CheckExact(old)) {
            res = 0;
            break;
        }
        Py_ssize_t k = vi->npar;
        PyObject *ls = NULL;
        if (k > 0) { /* check before anything is written for this node */
            ls = SLOT(n, off_local);
            if (ls == NULL || !PyTuple_Check(ls) || PyTuple_GET_SIZE(ls) != k) {
                res = 0;
                break;
            }
            const ix_t *par = w->b.edges + vi->eoff;
            for (Py_ssize_t j = 0; j < k; j++) {
                PyObject *pgo = gs[par[j]].o;
                if (!PyFloat_CheckExact(PyTuple_GET_ITEM(ls, j)) || (pgo != NULL && pgo != AS_DOUBLE)) {
                    res = 0;
                    break;
                }
            }
            if (res == 0)
                break;
        }
        PyObject *nw = PyFloat_FromDouble(PyFloat_AS_DOUBLE(old) + g->d);
        if (nw == NULL) {
            res = -1;
            break;
        }
        /* (a marked walk: the mark in the slot goes, the new .grad takes its place) */
        double gd = g->d;
        SLOT(n, off_grad) = nw;
        g->o = old; /* the node's gradient is no longer needed: keep the old .grad to put back */
        if (k > 0) {
            const ix_t *par = w->b.edges + vi->eoff;
            for (Py_ssize_t j = 0; j < k; j++) {
                grad_t *pg = &gs[par[j]];
                double prod = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(ls, j)) * gd;
                pg->d = (pg->o == NULL ? 0.0 : pg->d) + prod;
                pg->o = AS_DOUBLE;
            }
        }
    }
    /* e is the first node not done: nodes emit[e+1 ..] hold their old .grad in gs[].o */
    for (Py_ssize_t i = w->nemit - 1; i > e; i--) {
        grad_t *g = &gs[w->b.emit[i]];
        PyObject *n = w->b.v[w->b.emit[i]].node;
        if (res == 1)
            Py_DECREF(g->o);
        else {
            PyObject *nw = SLOT(n, off_grad);
            SLOT(n, off_grad) = g->o;
            Py_DECREF(nw);
        }
        g->o = NULL;
    }
    if (res != 1 && w->marked) /* the nodes not done still hold their marks */
        for (Py_ssize_t i = e; i >= 0; i--) {
            const vinfo_t *vi = &w->b.v[w->b.emit[i]];
            SLOT(vi->node, off_grad) = vi->old;
        }
    return res;
}


/* backprop(root, seed, stop, limit=0) -> (order, grads): engine._backprop
 * without create_graph. */
static PyObject *
backprop(PyObject *self, PyObject *args)
{
    PyObject *root, *seed, *stop;
    long long limit = 0;
    if (!PyArg_ParseTuple(args, "OOO|L", &root, &seed, &stop, &limit) || check_stop(stop) < 0)
        return NULL;
    walk_t w;
    grad_t *gs = NULL;
    PyObject *ord = NULL, *grads = NULL, *res = NULL;
    if (walk(&w, root, stop == Py_None ? NULL : stop, limit, 1, 0) < 0 || (gs = propagate(&w, seed)) == NULL)
        goto done;
    if ((ord = walk_order(&w)) == NULL || (grads = PyDict_New()) == NULL)
        goto done;
    for (Py_ssize_t e = w.nemit - 1; e >= 0; e--) {
        Py_ssize_t vid = w.b.emit[e];
        if (gs[vid].o == NULL)
            continue;
        PyObject *g = grad_object(&gs[vid]);
        int failed = g == NULL || PyDict_SetItem(grads, w.b.v[vid].node, g) < 0;
        Py_XDECREF(g);
        if (failed)
            goto done;
    }
    res = PyTuple_Pack(2, ord, grads);
done:
    walk_free(&w);
    Py_XDECREF(ord);
    Py_XDECREF(grads);
    return res;
}

/* Call lock.acquire() or lock.release(); on release, an exception already
 * set is kept. 0, or -1. */
static int
lock_call(PyObject *lock, PyObject *name)
{
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    PyObject *r = PyObject_CallMethodNoArgs(lock, name);
    if (r == NULL) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(etb);
        return -1;
    }
    Py_DECREF(r);
    PyErr_Restore(et, ev, etb);
    return 0;
}

/* backward(root, seed, lock) -> bool: Value.backward without create_graph
 * in its common case (fused_backward: every node a Value whose .grad is a
 * float, every local derivative and the seed floats). True when done;
 * False when the graph is outside that case, and then nothing was changed
 * (engine.py then runs the general driver). `lock` is held from before the
 * walk, which takes no references: no Python code runs until the .grad are
 * written. */
static PyObject *
backward(PyObject *self, PyObject *args)
{
    PyObject *root, *seed, *lock;
    if (!PyArg_ParseTuple(args, "OOO", &root, &seed, &lock))
        return NULL;
    if (lock_call(lock, str_acquire) < 0)
        return NULL;
    walk_t w;
    grad_t *gs = NULL;
    int r = walk(&w, root, NULL, 0, 0, 1);
    if (r == NOT_MARKABLE) { /* (unmarked by the walk) the table walk, then */
        walk_free(&w);
        r = walk(&w, root, NULL, 0, 0, 0);
    }
    int done;
    if (r < 0 || (gs = grads_new(&w)) == NULL) {
        unmark(&w);
        done = -1;
    }
    else
        done = fused_backward(&w, seed, gs); /* it writes every .grad or unmarks */
    w.marked = 0;
    walk_free(&w); /* no Python code ran: the borrowed references were good */
    if (lock_call(lock, str_release) < 0)
        done = -1;
    if (done < 0)
        return NULL;
    return PyBool_FromLong(done);
}

static void
untrack_if_atomic(PyObject *tup)
{
    /* a tuple of floats (local derivatives) holds no reference cycle */
    if (!PyTuple_CheckExact(tup) || !PyObject_GC_IsTracked(tup))
        return;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tup); i++)
        if (!PyFloat_CheckExact(PyTuple_GET_ITEM(tup, i)))
            return;
    PyObject_GC_UnTrack(tup);
}

/* The creation number of a node being made (a borrowed reference): the
 * steps of engine._next_seq. NULL with an exception when out of memory. */
static PyObject *
next_seq(void)
{
    if (seq_now == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.setup was not called");
        return NULL;
    }
    unsigned long long k = seq_ticks++;
    if (k % SEQ_BLOCK == 0 && k > 0) {
        PyObject *n = PyLong_FromUnsignedLongLong(seq_first + k / SEQ_BLOCK);
        if (n == NULL)
            return NULL;
        Py_SETREF(seq_now, n);
    }
    return seq_now;
}

/* seq() -> the creation number for a node being made (engine._next_seq). */
static PyObject *
seq(PyObject *self, PyObject *unused)
{
    PyObject *n = next_seq();
    return n == NULL ? NULL : Py_NewRef(n);
}

/* node(data, parents, local, prim, param): engine._node, compiled. The new
 * Value (and its parents tuple) are not tracked by the cyclic garbage
 * collector: a graph holds no reference cycle, and reference counting frees
 * it. Value.backward(create_graph=True), the one place the library makes a
 * cycle (x.grad holding a graph that reaches x), tracks them again (track). */
static PyObject *
make_node(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "node(data, parents, local, prim, param)");
        return NULL;
    }
    if (value_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.setup was not called");
        return NULL;
    }
    PyObject *mode;
    if (PyContextVar_Get(grad_var, Py_True, &mode) < 0)
        return NULL;
    int on = mode == Py_True ? 1 : mode == Py_False ? 0 : PyObject_IsTrue(mode);
    Py_DECREF(mode);
    if (on < 0)
        return NULL;
    PyObject *q = next_seq();
    if (q == NULL)
        return NULL;
    PyObject *v = value_type->tp_alloc(value_type, 0);
    if (v == NULL)
        return NULL;
    PyObject_GC_UnTrack(v);
    SLOT(v, off_seq) = Py_NewRef(q);
    SLOT(v, off_data) = Py_NewRef(args[0]);
    SLOT(v, off_grad) = Py_NewRef(zero);
    SLOT(v, off_label) = Py_NewRef(empty_str);
    if (on) {
        PyObject *parents = args[1];
        if (PyTuple_CheckExact(parents))
            PyObject_GC_UnTrack(parents);
        untrack_if_atomic(args[2]);
        SLOT(v, off_parents) = Py_NewRef(parents);
        SLOT(v, off_local) = Py_NewRef(args[2]);
        SLOT(v, off_prim) = Py_NewRef(args[3]);
        SLOT(v, off_param) = Py_NewRef(args[4]);
        if (creation_watchers > 0 && creation_var != NULL) {
            PyObject *hook;
            if (PyContextVar_Get(creation_var, Py_None, &hook) < 0) {
                Py_DECREF(v);
                return NULL;
            }
            if (hook != Py_None) {
                PyObject *r = PyObject_CallOneArg(hook, v);
                Py_DECREF(hook);
                if (r == NULL) {
                    Py_DECREF(v);
                    return NULL;
                }
                Py_DECREF(r);
            }
            else
                Py_DECREF(hook);
        }
    }
    else {
        SLOT(v, off_parents) = Py_NewRef(empty_tuple);
        SLOT(v, off_local) = Py_NewRef(empty_tuple);
        SLOT(v, off_prim) = Py_NewRef(Py_None);
        SLOT(v, off_param) = Py_NewRef(Py_None);
    }
    return v;
}

/* watch_creation(var, watchers): the creation-hook ContextVar and the number of
 * captures watching it (engine._creation_watchers), kept in step by the engine. */
static PyObject *
watch_creation(PyObject *self, PyObject *args)
{
    PyObject *var;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "On", &var, &n))
        return NULL;
    if (!PyContextVar_CheckExact(var)) {
        PyErr_SetString(PyExc_TypeError, "watch_creation: the hook must be a ContextVar");
        return NULL;
    }
    Py_XSETREF(creation_var, Py_NewRef(var));
    creation_watchers = n;
    Py_RETURN_NONE;
}

/* track(roots): let the cyclic garbage collector see every node reachable
 * from the given Values again, and their parents tuples. */
static PyObject *
track(PyObject *self, PyObject *roots)
{
    PyObject *seq = PySequence_Fast(roots, "track needs a sequence of nodes");
    if (seq == NULL)
        return NULL;
    table_t t;
    stack_t st = {NULL, 0, 0};
    PyObject *res = NULL;
    if (table_init(&t) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++)
        if (stack_push(&st, PySequence_Fast_GET_ITEM(seq, i)) < 0)
            goto done;
    while (st.size) {
        PyObject *n = st.items[--st.size];
        size_t i = table_slot(&t, n);
        if (t.e[i].key != NULL || !PyObject_TypeCheck(n, node_type)) {
            Py_DECREF(n);
            continue;
        }
        PyObject *ps = SLOT(n, off_parents);
        /* the table keeps a borrowed key: n stays alive through the graph */
        if (table_set(&t, n, 0) < 0) {
            Py_DECREF(n);
            goto done;
        }
        if (!PyObject_GC_IsTracked(n))
            PyObject_GC_Track(n);
        if (ps != NULL && PyTuple_Check(ps)) {
            if (!PyObject_GC_IsTracked(ps))
                PyObject_GC_Track(ps);
            for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(ps); j++)
                if (stack_push(&st, PyTuple_GET_ITEM(ps, j)) < 0) {
                    Py_DECREF(n);
                    goto done;
                }
        }
        Py_DECREF(n);
    }
    res = Py_NewRef(Py_None);
done:
    stack_clear(&st);
    table_free(&t);
    Py_DECREF(seq);
    return res;
}

/* scratch() -> bytes of buffers kept for the next walk;
 * scratch(release=True) frees them first. */
static PyObject *
scratch(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"release", NULL};
    int release = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", names, &release))
        return NULL;
    if (release)
        spare_release();
    return PyLong_FromSize_t(spare_bytes());
}

static PyMethodDef methods[] = {
    {"scratch", (PyCFunction)(void (*)(void))scratch, METH_VARARGS | METH_KEYWORDS,
     "scratch(release=False) -> bytes of walk buffers kept for the next backward"},
    {"setup", setup, METH_VARARGS, "setup(Node, Value, grad_mode_var, slot descriptors, first_seq=1)"},
    {"order", order, METH_VARARGS, "order(root, stop, limit=0) -> topological order (engine._order)"},
    {"backprop", backprop, METH_VARARGS, "backprop(root, seed, stop, limit=0) -> (order, grads)"},
    {"seq", seq, METH_NOARGS, "seq() -> the creation number for a new node (engine._next_seq)"},
    {"node", (PyCFunction)(void (*)(void))make_node, METH_FASTCALL, "node(data, parents, local, prim, param) -> Value"},
    {"watch_creation", watch_creation, METH_VARARGS, "watch_creation(creation_hook, watchers)"},
    {"track", track, METH_O, "track(roots): the cyclic collector sees these graphs again"},
    {"backward", backward, METH_VARARGS, "backward(root, seed, lock): Value.backward without create_graph"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "Compiled bookkeeping for the backward driver (see engine.py for the reference).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    zero = PyFloat_FromDouble(0.0);
    empty_str = PyUnicode_FromString("");
    empty_tuple = PyTuple_New(0);
    str_acquire = PyUnicode_InternFromString("acquire");
    str_release = PyUnicode_InternFromString("release");
    if (zero == NULL || empty_str == NULL || empty_tuple == NULL || str_acquire == NULL
        || str_release == NULL)
        return NULL;
    return PyModule_Create(&module);
}
