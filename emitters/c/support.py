"""Small C helper functions the generated scorer uses where C's own operators differ from the IR.

Each is emitted (``static``) only when an expression uses it, so ``-Wunused-function`` stays quiet.
"""

from __future__ import annotations

SUPPORT_FUNCTIONS: dict[str, str] = {
    "mg_max": """\
/* IR max propagates NaN (numpy.maximum); C's fmax would drop it. */
static double mg_max(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return NAN;
    }
    return a >= b ? a : b;
}
""",
    "mg_min": """\
/* IR min propagates NaN (numpy.minimum); C's fmin would drop it. */
static double mg_min(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return NAN;
    }
    return a <= b ? a : b;
}
""",
    "mg_streq": """\
/* String equality where NULL (missing) equals only NULL. */
static int mg_streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}
""",
    "mg_isin_double": """\
/* Membership; NaN never matches (the tables hold no NaN). */
static int mg_isin_double(double x, const double *values, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (x == values[i]) {
            return 1;
        }
    }
    return 0;
}
""",
    "mg_isin_float": """\
/* Membership for float32 values; NaN never matches. */
static int mg_isin_float(float x, const float *values, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (x == values[i]) {
            return 1;
        }
    }
    return 0;
}
""",
    "mg_isin_int": """\
static int mg_isin_int(long long x, const long long *values, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (x == values[i]) {
            return 1;
        }
    }
    return 0;
}
""",
    "mg_isin_string": """\
/* Membership; a missing (NULL) string is never a member. */
static int mg_isin_string(const char *x, const char *const *values, int n)
{
    int i;
    if (x == NULL) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(x, values[i]) == 0) {
            return 1;
        }
    }
    return 0;
}
""",
    "mg_argmax": """\
/* numpy.argmax: index of the first maximal value; the first NaN wins outright. */
static long long mg_argmax(const double *values, int n)
{
    int best = 0;
    int i;
    for (i = 0; i < n; i++) {
        if (isnan(values[i])) {
            return i;
        }
        if (values[i] > values[best]) {
            best = i;
        }
    }
    return best;
}
""",
    "mg_in_doubles": """\
/* Membership in a sorted array of doubles by bisection (NaN is never a member: it fails every test). */
static int mg_in_doubles(double x, const double *values, int n)
{
    int low = 0;
    int high = n;
    while (low < high) {
        const int middle = low + (high - low) / 2;
        if (values[middle] < x) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low < n && values[low] == x;
}
""",
    "mg_in_strings": """\
/* Membership in an array of strings sorted by strcmp, by bisection; x is not NULL. */
static int mg_in_strings(const char *x, const char *const *values, int n)
{
    int low = 0;
    int high = n;
    while (low < high) {
        const int middle = low + (high - low) / 2;
        if (strcmp(values[middle], x) < 0) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low < n && strcmp(values[low], x) == 0;
}
""",
}
"""Helper name -> its C definition."""
