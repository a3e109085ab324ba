/* parse.c: durations, sizes, rates, probabilities and integers (parse.h).
 *
 * Numbers are read as exact decimals (digits, an optional fraction) rather
 * than through strtod, so "0.1s" is exactly 100000000 ns on every machine
 * and a value that is not a whole number of the base unit is reported
 * instead of being silently rounded. */
#define _GNU_SOURCE
#include "parse.h"

#include "errf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal "123.45" as mantissa 12345 and 2 fraction digits. */
typedef struct decimal {
    uint64_t mant;
    int frac;
} decimal;

static const uint64_t pow10_tab[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
    10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL,
    10000000000000000000ULL};

/* Reads a non-negative decimal at *p and advances *p past it. */
static int read_decimal(const char **p, decimal *d, const char *whole, char *err, size_t errlen)
{
    const char *s = *p;
    d->mant = 0;
    d->frac = 0;
    int digits = 0, in_frac = 0;
    if (*s == '-')
        return errf(err, errlen, "negative value '%s' is not allowed", whole);
    if (*s == '+')
        s++;
    for (;; s++) {
        if (*s == '.' && !in_frac) {
            in_frac = 1;
            continue;
        }
        if (*s < '0' || *s > '9')
            break;
        if (d->mant > (UINT64_MAX - 9) / 10 || d->frac >= 18)
            return errf(err, errlen, "number too large or too precise in '%s'", whole);
        d->mant = d->mant * 10 + (uint64_t)(*s - '0');
        d->frac += in_frac;
        digits++;
    }
    if (digits == 0)
        return errf(err, errlen, "expected a number in '%s'", whole);
    *p = s;
    return 0;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* d * unit as an integer; fails if it overflows or is not whole. The
 * common factors of unit and 10^frac are cancelled first, so a value that
 * fits is never rejected because mant * unit would not ("22222.2s"). */
static int scale(const decimal *d, uint64_t unit, uint64_t *out, const char *what,
                 const char *whole, char *err, size_t errlen)
{
    uint64_t q = pow10_tab[d->frac], g = gcd(unit, q);
    uint64_t u = unit / g;
    q /= g;                          /* u and q are now coprime */
    if (d->mant % q != 0)
        return errf(err, errlen, "'%s' is not a whole number of %s", whole, what);
    uint64_t m = d->mant / q;
    if (u != 0 && m > UINT64_MAX / u)
        return errf(err, errlen, "'%s' is too large", whole);
    *out = m * u;
    return 0;
}

static double decimal_value(const decimal *d)
{
    return (double)d->mant / (double)pow10_tab[d->frac];
}

struct unit {
    const char *name;
    uint64_t mult;
};

static const struct unit duration_units[] = {
    {"ns", 1ULL}, {"us", 1000ULL}, {"ms", 1000000ULL},
    {"s", 1000000000ULL}, {"m", 60000000000ULL}, {NULL, 0}};

static const struct unit *find_unit(const struct unit *tab, const char *name)
{
    for (; tab->name; tab++)
        if (strcmp(tab->name, name) == 0)
            return tab;
    return NULL;
}

int parse_duration_ns(const char *s, uint64_t *out, char *err, size_t errlen)
{
    const char *p = s;
    decimal d;
    if (read_decimal(&p, &d, s, err, errlen) < 0)
        return -1;
    if (*p == '\0') {
        if (d.mant == 0) {
            *out = 0;
            return 0;
        }
        return errf(err, errlen, "missing unit in '%s' (use ns, us, ms, s or m)", s);
    }
    const struct unit *u = find_unit(duration_units, p);
    if (!u)
        return errf(err, errlen, "unknown unit '%s' in '%s' (use ns, us, ms, s or m)", p, s);
    return scale(&d, u->mult, out, "nanoseconds", s, err, errlen);
}

/* Size suffix: k, M, G or T in either case, then nothing, "B" or "iB".
 * Binary multiples throughout (a "64KB" buffer means 65536 bytes). */
static int size_unit(const char *p, uint64_t *mult)
{
    static const char letters[] = "kmgt";
    if (*p == '\0' || strcmp(p, "B") == 0 || strcmp(p, "b") == 0) {
        *mult = 1;
        return 0;
    }
    const char *l = strchr(letters, p[0] | 0x20);
    if (!l || p[0] == '\0')
        return -1;
    const char *rest = p + 1;
    if (*rest != '\0' && strcmp(rest, "B") != 0 && strcmp(rest, "iB") != 0 &&
        strcmp(rest, "b") != 0 && strcmp(rest, "ib") != 0)
        return -1;
    *mult = 1ULL << (10 * (l - letters + 1));
    return 0;
}

int parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
    const char *p = s;
    decimal d;
    uint64_t mult;
    if (read_decimal(&p, &d, s, err, errlen) < 0)
        return -1;
    if (size_unit(p, &mult) < 0)
        return errf(err, errlen, "unknown unit '%s' in '%s' (use B, k, M, G or T, optionally with B or iB)", p, s);
    return scale(&d, mult, out, "bytes", s, err, errlen);
}

int parse_rate(const char *s, double *per_second, char *err, size_t errlen)
{
    const char *p = s;
    decimal d;
    if (read_decimal(&p, &d, s, err, errlen) < 0)
        return -1;
    double v = decimal_value(&d);
    if (*p == 'k') {
        v *= 1000.0;
        p++;
    }
    if (*p != '/')
        return errf(err, errlen, "expected '/' and a time unit in '%s' (e.g. 500/s)", s);
    p++;
    const struct unit *u = find_unit(duration_units, p);
    if (!u)
        return errf(err, errlen, "unknown unit '%s' in '%s' (use ns, us, ms, s or m)", p, s);
    *per_second = v * 1e9 / (double)u->mult;
    return 0;
}

int parse_probability(const char *s, double *out, char *err, size_t errlen)
{
    const char *p = s;
    decimal d;
    if (read_decimal(&p, &d, s, err, errlen) < 0)
        return -1;
    double v = decimal_value(&d);
    if (strcmp(p, "%") == 0) {
        v /= 100.0;
    } else if (*p != '\0') {
        return errf(err, errlen, "unexpected '%s' in probability '%s' (use 0.3 or 30%%)", p, s);
    }
    if (v > 1.0)
        return errf(err, errlen, "probability '%s' is above 1", s);
    *out = v;
    return 0;
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || *s == ' ' || *s == '\t')
        return errf(err, errlen, "'%s' is not an integer", s);
    if (errno == ERANGE || v < min || v > max)
        return errf(err, errlen, "%s is out of range (must be between %" PRId64 " and %" PRId64 ")",
                    s, min, max);
    *out = v;
    return 0;
}

int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    if (*s == '-')
        return errf(err, errlen, "%s is out of range (must be between %" PRIu64 " and %" PRIu64 ")",
                    s, min, max);
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || *s == ' ' || *s == '\t')
        return errf(err, errlen, "'%s' is not an integer", s);
    if (errno == ERANGE || v < min || v > max)
        return errf(err, errlen, "%s is out of range (must be between %" PRIu64 " and %" PRIu64 ")",
                    s, min, max);
    *out = v;
    return 0;
}

void format_duration(uint64_t ns, char *out, size_t cap)
{
    if (ns == 0) {
        snprintf(out, cap, "0");
        return;
    }
    if (ns % 60000000000ULL == 0) {
        snprintf(out, cap, "%" PRIu64 "m", (uint64_t)(ns / 60000000000ULL));
        return;
    }
    /* The largest power-of-ten unit not above ns, with an exact fraction
     * whose trailing zeros are dropped. */
    static const struct unit units[] = {
        {"s", 1000000000ULL}, {"ms", 1000000ULL}, {"us", 1000ULL}, {"ns", 1ULL}};
    const struct unit *u = &units[3];
    for (int i = 0; i < 4; i++) {
        if (ns >= units[i].mult) {
            u = &units[i];
            break;
        }
    }
    uint64_t whole = ns / u->mult, frac = ns % u->mult;
    if (frac == 0) {
        snprintf(out, cap, "%" PRIu64 "%s", whole, u->name);
        return;
    }
    int digits = 0;
    for (uint64_t m = u->mult; m > 1; m /= 10)
        digits++;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(out, cap, "%" PRIu64 ".%0*" PRIu64 "%s", whole, digits, frac, u->name);
}
