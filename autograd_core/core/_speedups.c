/* Optional compiled bookkeeping for the backward driver of autograd_core.engine.
 *
 * This file knows no derivative: it only walks the graph (the topological
 * order), adds up `local * g` products into a per-call dict, and adds the
 * results into `.grad`. The local derivatives are the ones the primitives'
 * rules stored on the nodes. It is a line-by-line translation of the pure
 * Python reference in engine.py (`_order`, `_backprop`, `Value.backward`),
 * which stays the readable reference and the fallback when this module is
 * not built; tests/test_speedups.py compares both bit for bit.
 *
 * Floats take a fast path with the same IEEE double operations Python uses
 * (built with -ffp-contract=off so the compiler fuses no multiply-add);
 * anything else (numpy arrays, LocalMap, Values) goes through the same
 * number protocol calls as the Python code.
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
    size_t mask, used;
} table_t;

static inline size_t
hash_ptr(PyObject *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p; /* the 64-bit finalizer of MurmurHash3 */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h;
}

static int
table_init(table_t *t)
{
    t->mask = 4095;
    t->used = 0;
    t->e = PyMem_Calloc(t->mask + 1, sizeof(entry_t));
    if (t->e == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
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

/* engine._order: the same depth-first search, the same emission order.
 * Fills `t` with each emitted node's index in the order. The keys are
 * borrowed: the returned list (or the stack) holds every node in the table. */
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

static PyObject *
order_impl(PyObject *root, PyObject *stop, long long limit, table_t *t)
{
    PyObject *order = PyList_New(0);
    stack_t st = {NULL, 0, 0};
    if (order == NULL || stack_push(&st, root) < 0)
        goto error;
    while (st.size) {
        PyObject *n = st.items[--st.size]; /* owned */
        size_t i = table_slot(t, n);
        int seen = t->e[i].key != NULL;
        if (seen && t->e[i].val >= 0) { /* emitted already */
            Py_DECREF(n);
            continue;
        }
        PyObject *ps = parents_of(n);
        if (ps == NULL) {
            Py_DECREF(n);
            goto error;
        }
        Py_ssize_t k = PyTuple_GET_SIZE(ps);
        int emit = seen || k == 0;
        if (!emit && (stop != NULL || limit > 0)) {
            int r = is_cut(n, stop, limit);
            if (r < 0) {
                Py_DECREF(n);
                goto error;
            }
            emit = r;
        }
        if (emit) {
            int failed = table_set_at(t, i, n, PyList_GET_SIZE(order)) < 0 || PyList_Append(order, n) < 0;
            Py_DECREF(n);
            if (failed)
                goto error;
            continue;
        }
        /* n stays referenced by the stack while it is in the table unemitted */
        if (table_set_at(t, i, n, -1) < 0 || stack_push(&st, n) < 0) {
            Py_DECREF(n);
            goto error;
        }
        Py_DECREF(n);
        for (Py_ssize_t j = k - 1; j >= 0; j--) {
            PyObject *p = PyTuple_GET_ITEM(ps, j);
            if (t->e[table_slot(t, p)].key == NULL && stack_push(&st, p) < 0)
                goto error;
        }
    }
    stack_clear(&st);
    return order;
error:
    stack_clear(&st);
    Py_XDECREF(order);
    return NULL;
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
    table_t t;
    if (table_init(&t) < 0) {
        table_free(&t);
        return NULL;
    }
    PyObject *res = order_impl(root, stop == Py_None ? NULL : stop, limit, &t);
    table_free(&t);
    return res;
}

/* old + l * g, in that evaluation order (a new reference). */
static PyObject *
add_product(PyObject *old, PyObject *l, PyObject *g)
{
    if (PyFloat_CheckExact(old) && PyFloat_CheckExact(l) && PyFloat_CheckExact(g)) {
        double prod = PyFloat_AS_DOUBLE(l) * PyFloat_AS_DOUBLE(g);
        return PyFloat_FromDouble(PyFloat_AS_DOUBLE(old) + prod);
    }
    Py_INCREF(old);
    PyObject *prod = PyNumber_Multiply(l, g);
    PyObject *res = prod == NULL ? NULL : PyNumber_Add(old, prod);
    Py_XDECREF(prod);
    Py_DECREF(old);
    return res;
}

/* The order and, in gs[i], seed * d root / d order[i] (new references;
 * NULL for no gradient). engine._backprop without create_graph. */
static PyObject *
propagate(PyObject *root, PyObject *seed, PyObject *stop, long long limit, PyObject ***gs_out)
{
    table_t t;
    PyObject **gs = NULL;
    if (table_init(&t) < 0) {
        table_free(&t);
        return NULL;
    }
    PyObject *ord = order_impl(root, stop == Py_None ? NULL : stop, limit, &t);
    if (ord == NULL)
        goto error;
    Py_ssize_t N = PyList_GET_SIZE(ord);
    gs = PyMem_Calloc(N, sizeof(PyObject *));
    if (gs == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    gs[N - 1] = Py_NewRef(seed); /* the root is emitted last */
    for (Py_ssize_t i = N - 1; i >= 0; i--) {
        PyObject *n = PyList_GET_ITEM(ord, i);
        PyObject *ps = parents_of(n);
        if (ps == NULL)
            goto error;
        Py_ssize_t k = PyTuple_GET_SIZE(ps);
        if (k == 0)
            continue;
        if (stop != Py_None || limit > 0) {
            int r = is_cut(n, stop == Py_None ? NULL : stop, limit);
            if (r < 0)
                goto error;
            if (r)
                continue; /* a cut: the walk did not go behind it */
        }
        PyObject *g = gs[i];
        if (g == NULL) {
            PyErr_SetObject(PyExc_KeyError, n);
            goto error;
        }
        PyObject *ls = SLOT(n, off_local);
        if (ls == NULL || !PyTuple_Check(ls) || PyTuple_GET_SIZE(ls) != k) {
            PyErr_SetString(PyExc_ValueError, "a node's local derivatives do not match its parents");
            goto error;
        }
        Py_INCREF(ps);
        Py_INCREF(ls);
        int failed = 0;
        for (Py_ssize_t j = 0; j < k && !failed; j++) {
            PyObject *p = PyTuple_GET_ITEM(ps, j);
            size_t s = table_slot(&t, p);
            if (t.e[s].key == NULL || t.e[s].val < 0) {
                PyErr_SetString(PyExc_RuntimeError, "graph changed during backward");
                failed = 1;
                break;
            }
            Py_ssize_t pi = t.e[s].val;
            PyObject *res = add_product(gs[pi] ? gs[pi] : zero, PyTuple_GET_ITEM(ls, j), g);
            if (res == NULL)
                failed = 1;
            else
                Py_XSETREF(gs[pi], res);
        }
        Py_DECREF(ps);
        Py_DECREF(ls);
        if (failed)
            goto error;
    }
    table_free(&t);
    *gs_out = gs;
    return ord;
error:
    table_free(&t);
    if (gs != NULL && ord != NULL)
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ord); i++)
            Py_XDECREF(gs[i]);
    PyMem_Free(gs);
    Py_XDECREF(ord);
    return NULL;
}

static void
free_grads(PyObject *ord, PyObject **gs)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ord); i++)
        Py_XDECREF(gs[i]);
    PyMem_Free(gs);
}

/* backprop(root, seed, stop, limit=0) -> (order, grads): engine._backprop
 * without create_graph. */
static PyObject *
backprop(PyObject *self, PyObject *args)
{
    PyObject *root, *seed, *stop, **gs = NULL;
    long long limit = 0;
    if (!PyArg_ParseTuple(args, "OOO|L", &root, &seed, &stop, &limit) || check_stop(stop) < 0)
        return NULL;
    PyObject *ord = propagate(root, seed, stop, limit, &gs);
    if (ord == NULL)
        return NULL;
    PyObject *grads = PyDict_New(), *res = NULL;
    if (grads == NULL)
        goto done;
    for (Py_ssize_t i = PyList_GET_SIZE(ord) - 1; i >= 0; i--)
        if (gs[i] != NULL && PyDict_SetItem(grads, PyList_GET_ITEM(ord, i), gs[i]) < 0)
            goto done;
    res = PyTuple_Pack(2, ord, grads);
done:
    free_grads(ord, gs);
    Py_DECREF(ord);
    Py_XDECREF(grads);
    return res;
}

/* n.grad += g  (Value.backward's accumulation step) */
static int
add_into_grad(PyObject *n, PyObject *g)
{
    if (value_type != NULL && Py_IS_TYPE(n, value_type) && SLOT(n, off_grad) != NULL) {
        PyObject *old = SLOT(n, off_grad), *res;
        if (PyFloat_CheckExact(old) && PyFloat_CheckExact(g))
            res = PyFloat_FromDouble(PyFloat_AS_DOUBLE(old) + PyFloat_AS_DOUBLE(g));
        else {
            Py_INCREF(old);
            res = PyNumber_InPlaceAdd(old, g);
            Py_DECREF(old);
        }
        if (res == NULL)
            return -1;
        Py_SETREF(SLOT(n, off_grad), res);
        return 0;
    }
    PyObject *old = PyObject_GetAttrString(n, "grad");
    PyObject *res = old == NULL ? NULL : PyNumber_InPlaceAdd(old, g);
    int failed = res == NULL || PyObject_SetAttrString(n, "grad", res) < 0;
    Py_XDECREF(old);
    Py_XDECREF(res);
    return failed ? -1 : 0;
}

/* backward(root, seed, lock): Value.backward without create_graph; `lock`
 * is held only while the results are added into .grad. */
static PyObject *
backward(PyObject *self, PyObject *args)
{
    PyObject *root, *seed, *lock, **gs = NULL;
    if (!PyArg_ParseTuple(args, "OOO", &root, &seed, &lock))
        return NULL;
    PyObject *ord = propagate(root, seed, Py_None, 0, &gs);
    if (ord == NULL)
        return NULL;
    int failed = 0;
    PyObject *r = PyObject_CallMethodNoArgs(lock, str_acquire);
    if (r == NULL)
        failed = 1;
    else {
        Py_DECREF(r);
        for (Py_ssize_t i = PyList_GET_SIZE(ord) - 1; i >= 0 && !failed; i--)
            if (gs[i] != NULL)
                failed = add_into_grad(PyList_GET_ITEM(ord, i), gs[i]) < 0;
        PyObject *et, *ev, *etb;
        PyErr_Fetch(&et, &ev, &etb);
        r = PyObject_CallMethodNoArgs(lock, str_release);
        if (r == NULL) {
            failed = 1;
            Py_XDECREF(et);
            Py_XDECREF(ev);
            Py_XDECREF(etb);
        }
        else {
            Py_DECREF(r);
            PyErr_Restore(et, ev, etb);
        }
    }
    free_grads(ord, gs);
    Py_DECREF(ord);
    if (failed)
        return NULL;
    Py_RETURN_NONE;
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

static PyMethodDef methods[] = {
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
