/* The compiled twin of `scan_python` in anygate/core/text_shape.py: the text events of a learned shape
   that come in a row, read in one pass over the bytes. Both must read exactly the same events; the
   tests hold them to each other and to a full parse of every event.

   scan(region, at, before, after, pad_end) -> (end, texts, strings)

   From offset `at` of `region` (complete SSE events separated by blank lines), reads each event that
   is `before`, one JSON string, `after` (then, when `pad_end` is not None, a padding string: printable
   ASCII but quote and backslash, in quotes; then `pad_end`), then a blank line or the region's end;
   stops at the first event that is anything else. Returns the offset past the last event read (and its blank line), the
   texts and each text's JSON string as the bytes were (quote to quote). A string without a backslash
   is read here (no raw control character, valid UTF-8); one with escapes is read by orjson.loads. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *json_loads; /* orjson.loads */

/* The end (offset of the closing quote) of the JSON string opening at `start` (its opening quote),
   within `limit`; -1 when it has none there. Sets *escaped when it has a backslash and *clean to 0
   when it has a raw control character (which JSON forbids). */
static Py_ssize_t string_end(const char *s, Py_ssize_t start, Py_ssize_t limit, int *escaped, int *clean)
{
    Py_ssize_t i = start + 1;
    while (i < limit) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            return i;
        if (c == '\\') {
            *escaped = 1;
            i += 2;
            continue;
        }
        if (c < 0x20)
            *clean = 0;
        i++;
    }
    return -1;
}

/* The text of the JSON string s[start..end] (quotes included), or NULL (no exception set) when it is
   not a valid one. `literal` is the same bytes as an object, for orjson when the string has escapes. */
static PyObject *string_text(const char *s, Py_ssize_t start, Py_ssize_t end, int escaped, PyObject *literal)
{
    PyObject *text;
    if (!escaped) {
        text = PyUnicode_DecodeUTF8(s + start + 1, end - start - 1, "strict");
    }
    else {
        text = PyObject_CallOneArg(json_loads, literal);
        if (text != NULL && !PyUnicode_CheckExact(text)) {
            Py_DECREF(text);
            return NULL;
        }
    }
    if (text == NULL)
        PyErr_Clear();
    return text;
}

/* The end (offset past the closing quote) of the padding string opening at `start`, within `limit`;
   -1 when there is none there, or when it holds anything but printable ASCII other than a backslash. */
static Py_ssize_t padding_end(const char *s, Py_ssize_t start, Py_ssize_t limit)
{
    if (start >= limit || s[start] != '"')
        return -1;
    for (Py_ssize_t i = start + 1; i < limit; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return -1;
    }
    return -1;
}

/* Whether s[0..len] has a blank line (two line ends in a row), which no one event has. */
static int has_blank_line(const char *s, Py_ssize_t len)
{
    const char *end = s + len, *line_end;
    while ((line_end = memchr(s, '\n', end - s)) != NULL && line_end + 1 < end) {
        if (line_end[1] == '\n')
            return 1;
        s = line_end + 1;
    }
    return 0;
}

static PyObject *scan(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "scan(region, at, before, after, pad_end) takes 5 arguments");
        return NULL;
    }
    int padded = args[4] != Py_None;
    if (!PyBytes_CheckExact(args[0]) || !PyBytes_CheckExact(args[2]) || !PyBytes_CheckExact(args[3])
        || (padded && !PyBytes_CheckExact(args[4]))) {
        PyErr_SetString(PyExc_TypeError, "scan: region, before and after must be bytes, pad_end bytes or None");
        return NULL;
    }
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    if (at == -1 && PyErr_Occurred())
        return NULL;
    const char *s = PyBytes_AS_STRING(args[0]), *before = PyBytes_AS_STRING(args[2]), *after = PyBytes_AS_STRING(args[3]);
    Py_ssize_t len = PyBytes_GET_SIZE(args[0]), before_len = PyBytes_GET_SIZE(args[2]), after_len = PyBytes_GET_SIZE(args[3]);
    const char *pad_end = padded ? PyBytes_AS_STRING(args[4]) : "";
    Py_ssize_t pad_end_len = padded ? PyBytes_GET_SIZE(args[4]) : 0;
    if (at < 0 || at > len) {
        PyErr_SetString(PyExc_ValueError, "scan: at is outside the region");
        return NULL;
    }

    PyObject *texts = PyList_New(0), *strings = PyList_New(0), *end = NULL, *result = NULL;
    if (texts == NULL || strings == NULL)
        goto done;
    /* An event ends at the first blank line: a shape that has one, or a last part whose line end would
       make one with the blank line after it, is never that of a whole event (but the region's last). */
    const char *last = padded ? pad_end : after;
    Py_ssize_t last_len = padded ? pad_end_len : after_len;
    int ends_line = last_len > 0 && last[last_len - 1] == '\n';
    if (has_blank_line(before, before_len) || has_blank_line(after, after_len) || has_blank_line(pad_end, pad_end_len))
        goto read;
    for (;;) {
        Py_ssize_t open = at + before_len;
        /* the head, then the opening quote of the string */
        if (open >= len || memcmp(s + at, before, before_len) != 0 || s[open] != '"')
            break;
        int escaped = 0, clean = 1;
        Py_ssize_t close = string_end(s, open, len, &escaped, &clean);
        if (close < 0 || !clean)
            break;
        Py_ssize_t tail = close + 1, next = tail + after_len;
        /* the tail, then the region's end or a blank line */
        if (next > len || memcmp(s + tail, after, after_len) != 0)
            break;
        if (padded) {
            Py_ssize_t pad = padding_end(s, next, len);
            if (pad < 0 || pad + pad_end_len > len || memcmp(s + pad, pad_end, pad_end_len) != 0)
                break;
            next = pad + pad_end_len;
        }
        if (next != len && (ends_line || next + 2 > len || s[next] != '\n' || s[next + 1] != '\n'))
            break;
        PyObject *literal = PyBytes_FromStringAndSize(s + open, tail - open);
        if (literal == NULL)
            goto done;
        PyObject *text = string_text(s, open, close, escaped, literal);
        if (text == NULL) {
            Py_DECREF(literal);
            break;
        }
        int failed = PyList_Append(texts, text) < 0 || PyList_Append(strings, literal) < 0;
        Py_DECREF(text);
        Py_DECREF(literal);
        if (failed)
            goto done;
        at = next == len ? len : next + 2;
    }
read:
    end = PyLong_FromSsize_t(at);
    if (end != NULL)
        result = PyTuple_Pack(3, end, texts, strings);
done:
    Py_XDECREF(end);
    Py_XDECREF(texts);
    Py_XDECREF(strings);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL, "The text events of a shape in a row: (end, texts, strings)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_text_scan",
    .m_doc = "The compiled reader of text events of a learned shape.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__text_scan(void)
{
    PyObject *orjson = PyImport_ImportModule("orjson");
    if (orjson == NULL)
        return NULL;
    json_loads = PyObject_GetAttrString(orjson, "loads");
    Py_DECREF(orjson);
    if (json_loads == NULL)
        return NULL;
    return PyModule_Create(&module_def);
}
