/* Searches of a stream's bytes for a few-byte pattern, as `bytes.find`, `bytes.count` and
   `bytes.replace` give them, by the C library's memmem and memchr: Python's own search skips poorly
   over JSON (the letters and quotes of a field name are everywhere in it) and costs a stream relay
   more than the rest of its work. anygate/core/byte_search.py falls back to the bytes methods where
   this does not build; the tests hold both to the same answers.

   find(haystack, needle, start, end) -> int      the first needle in haystack[start:end], or -1
   count(haystack, needle, start, end) -> int     how many needles, not overlapping, are in it
   replace(haystack, old, new) -> bytes           every old (not overlapping) made new, left to right

   `needle` and `old` must not be empty; `start` and `end` are offsets (an end past the haystack's
   length reads as its length). */

#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* The first needle in s[from:to], or NULL. */
static const char *search(const char *s, Py_ssize_t from, Py_ssize_t to, const char *needle, Py_ssize_t length)
{
    if (to - from < length)
        return NULL;
    if (length > 2)
        return memmem(s + from, (size_t)(to - from), needle, (size_t)length);
    /* a byte or two (a blank line): memchr is quicker than memmem's set-up for each of many finds */
    const char *found = s + from, *last = s + to - length;
    while (found <= last && (found = memchr(found, needle[0], (size_t)(last - found + 1))) != NULL) {
        if (length == 1 || found[1] == needle[1])
            return found;
        found++;
    }
    return NULL;
}

/* Reads the arguments of find and count; 0 on a Python error. */
static int range_args(PyObject *const *args, Py_ssize_t nargs, const char *name, Py_buffer *haystack,
                      Py_buffer *needle, Py_ssize_t *start, Py_ssize_t *end)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly 4 arguments", name);
        return 0;
    }
    *start = PyLong_AsSsize_t(args[2]);
    *end = PyLong_AsSsize_t(args[3]);
    if (PyErr_Occurred())
        return 0;
    if (*start < 0 || *end < 0) {
        PyErr_SetString(PyExc_ValueError, "start and end must not be negative");
        return 0;
    }
    if (PyObject_GetBuffer(args[0], haystack, PyBUF_SIMPLE) < 0)
        return 0;
    if (PyObject_GetBuffer(args[1], needle, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(haystack);
        return 0;
    }
    if (needle->len == 0) {
        PyBuffer_Release(haystack);
        PyBuffer_Release(needle);
        PyErr_SetString(PyExc_ValueError, "the needle must not be empty");
        return 0;
    }
    if (*end > haystack->len)
        *end = haystack->len;
    return 1;
}

static PyObject *find(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer haystack, needle;
    Py_ssize_t start, end;
    if (!range_args(args, nargs, "find", &haystack, &needle, &start, &end))
        return NULL;
    const char *s = haystack.buf;
    const char *found = start <= end ? search(s, start, end, needle.buf, needle.len) : NULL;
    Py_ssize_t at = found ? (Py_ssize_t)(found - s) : -1;
    PyBuffer_Release(&haystack);
    PyBuffer_Release(&needle);
    return PyLong_FromSsize_t(at);
}

static PyObject *count(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer haystack, needle;
    Py_ssize_t start, end, n = 0;
    if (!range_args(args, nargs, "count", &haystack, &needle, &start, &end))
        return NULL;
    const char *s = haystack.buf;
    const char *found;
    while (start <= end && (found = search(s, start, end, needle.buf, needle.len)) != NULL) {
        n++;
        start = (Py_ssize_t)(found - s) + needle.len;
    }
    PyBuffer_Release(&haystack);
    PyBuffer_Release(&needle);
    return PyLong_FromSsize_t(n);
}

static PyObject *replace(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) || !PyBytes_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "replace() takes three bytes");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(args[0]), *old = PyBytes_AS_STRING(args[1]), *new = PyBytes_AS_STRING(args[2]);
    Py_ssize_t length = PyBytes_GET_SIZE(args[0]), old_length = PyBytes_GET_SIZE(args[1]);
    Py_ssize_t new_length = PyBytes_GET_SIZE(args[2]), n = 0, at = 0;
    if (old_length == 0) {
        PyErr_SetString(PyExc_ValueError, "the pattern replaced must not be empty");
        return NULL;
    }
    const char *found;
    while ((found = search(s, at, length, old, old_length)) != NULL) {
        n++;
        at = (Py_ssize_t)(found - s) + old_length;
    }
    if (n == 0)
        return Py_NewRef(args[0]);
    if (new_length > old_length && n > (PY_SSIZE_T_MAX - length) / (new_length - old_length)) {
        PyErr_NoMemory();
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, length + n * (new_length - old_length));
    if (out == NULL)
        return NULL;
    char *into = PyBytes_AS_STRING(out);
    at = 0;
    while (n-- > 0) {
        found = search(s, at, length, old, old_length);
        Py_ssize_t before = (Py_ssize_t)(found - s) - at;
        memcpy(into, s + at, (size_t)before);
        memcpy(into + before, new, (size_t)new_length);
        into += before + new_length;
        at += before + old_length;
    }
    memcpy(into, s + at, (size_t)(length - at));
    return out;
}

static PyMethodDef methods[] = {
    {"find", (PyCFunction)(void (*)(void))find, METH_FASTCALL, "The first needle in haystack[start:end], or -1."},
    {"count", (PyCFunction)(void (*)(void))count, METH_FASTCALL, "How many needles are in haystack[start:end]."},
    {"replace", (PyCFunction)(void (*)(void))replace, METH_FASTCALL, "Every old in haystack made new."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_byte_search",
    .m_doc = "Searches of bytes by memmem and memchr.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__byte_search(void)
{
    return PyModule_Create(&module_def);
}
