/*  =========================================================================
    zc_json - the strict reader: RFC 8259 JSON, every string valid UTF-8

    Every byte that enters zchain from outside (a request, a block from a
    peer, a notice, a transaction's data read back from the ledger) is
    parsed here.  A checker walks the text by RFC 8259's grammar before
    cJSON sees it; cJSON then builds the tree from text that is known to
    be JSON.  cJSON alone is lenient in ways that matter to a ledger:
    it takes `012`, `1.`, `-.5`, raw control characters in strings, form
    feed as whitespace, and reads `\uqqqq` as U+0000, which ends the C
    string early so that two different wire texts become one signed
    transaction.  doc/DESIGN.md ("Strict JSON") says why a checker in
    front of cJSON rather than a parser of our own.

    What the checker takes, exactly:
      - whitespace is space, tab, LF and CR only;
      - numbers are -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?;
      - strings hold no byte below 0x20, only the escapes \" \\ \/ \b \f
        \n \r \t and \uXXXX with four hex digits; a \u escape of a high
        surrogate must be followed by one of a low surrogate, and a low
        surrogate alone is refused (neither could become UTF-8);
      - raw bytes in strings are well-formed UTF-8 (no overlong form, no
        surrogate, nothing above U+10FFFF); outside strings only ASCII
        grammar is allowed, so a byte order mark is refused;
      - nesting is at most ZC_JSON_MAX_DEPTH arrays and objects;
      - exactly one value, with nothing but whitespace after it.
    Duplicate member names are grammatical (RFC 8259 only says SHOULD be
    unique), so the reader takes them; canonical JSON (zc_jcs) refuses
    them, so no transaction or block can carry one.

    zc_json_read adds one rule of the tree: cJSON keeps strings as C
    strings, so a string holding U+0000 (written \u0000) could not be
    kept whole and is refused with its own reason.
    =========================================================================
*/

#include "zchain.h"

//  The walk over one text: where it is, and the first error met
typedef struct {
    const uint8_t *start;       //  first byte of the text
    const uint8_t *p;           //  next byte to read
    const uint8_t *end;         //  one past the last byte
    const char *error;          //  first error, static
    bool nul;                   //  a string holds U+0000
} s_walk_t;

static bool s_value (s_walk_t *walk, int depth);

static bool
s_fail (s_walk_t *walk, const char *error)
{
    if (!walk->error)
        walk->error = error;
    return false;
}

static void
s_skip_space (s_walk_t *walk)
{
    while (walk->p < walk->end
       && (*walk->p == ' ' || *walk->p == '\t' || *walk->p == '\n' || *walk->p == '\r'))
        walk->p++;
}

//  Length of the well-formed UTF-8 sequence at p (1-4), or 0 if the bytes
//  there are not one (RFC 3629 table 3-7 of Unicode).
static size_t
s_utf8_sequence (const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p [0];
    if (c < 0x80)
        return 1;
    size_t length;
    uint8_t low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        length = 2;
    else
    if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        if (c == 0xE0)
            low = 0xA0;         //  no overlong forms
        else
        if (c == 0xED)
            high = 0x9F;        //  no UTF-16 surrogates
    }
    else
    if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        if (c == 0xF0)
            low = 0x90;         //  no overlong forms
        else
        if (c == 0xF4)
            high = 0x8F;        //  nothing above U+10FFFF
    }
    else
        return 0;
    if ((size_t) (end - p) < length)
        return 0;
    if (p [1] < low || p [1] > high)
        return 0;
    for (size_t i = 2; i < length; i++)
        if (p [i] < 0x80 || p [i] > 0xBF)
            return 0;
    return length;
}

bool
zc_utf8_valid (const char *text, size_t size)
{
    if (!text)
        return false;
    const uint8_t *p = (const uint8_t *) text, *end = p + size;
    while (p < end) {
        size_t length = s_utf8_sequence (p, end);
        if (length == 0)
            return false;
        p += length;
    }
    return true;
}

size_t
zc_utf8_prefix (const char *text, size_t max)
{
    if (!text)
        return 0;
    const uint8_t *p = (const uint8_t *) text;
    size_t size = strnlen (text, max), used = 0;
    while (used < size) {
        size_t length = s_utf8_sequence (p + used, p + size);
        if (length == 0)
            break;
        used += length;
    }
    return used;
}

//  Four hex digits at p, as a code unit; -1 if they are not.
static long
s_hex4 (const uint8_t *p, const uint8_t *end)
{
    if (end - p < 4)
        return -1;
    long value = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p [i];
        int digit = c >= '0' && c <= '9'? c - '0':
                    c >= 'a' && c <= 'f'? c - 'a' + 10:
                    c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

static bool
s_string (s_walk_t *walk)
{
    walk->p++;                  //  the opening quote
    while (walk->p < walk->end) {
        uint8_t c = *walk->p;
        if (c == '"') {
            walk->p++;
            return true;
        }
        if (c < 0x20)
            return s_fail (walk, "control character in a string");
        if (c == '\\') {
            if (walk->end - walk->p < 2)
                return s_fail (walk, "unterminated string");
            uint8_t escape = walk->p [1];
            if (escape == 'u') {
                long unit = s_hex4 (walk->p + 2, walk->end);
                if (unit < 0)
                    return s_fail (walk, "\\u escape without four hex digits");
                walk->p += 6;
                if (unit >= 0xDC00 && unit <= 0xDFFF)
                    return s_fail (walk, "\\u escape of a lone low surrogate");
                if (unit >= 0xD800 && unit <= 0xDBFF) {
                    long low = (walk->end - walk->p >= 6
                            &&  walk->p [0] == '\\' && walk->p [1] == 'u')?
                               s_hex4 (walk->p + 2, walk->end): -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return s_fail (walk, "\\u escape of a high surrogate without a low one");
                    walk->p += 6;
                }
                if (unit == 0)
                    walk->nul = true;
                continue;
            }
            if (!strchr ("\"\\/bfnrt", escape) || escape == 0)
                return s_fail (walk, "invalid escape in a string");
            walk->p += 2;
            continue;
        }
        size_t length = s_utf8_sequence (walk->p, walk->end);
        if (length == 0)
            return s_fail (walk, "string is not valid UTF-8");
        walk->p += length;
    }
    return s_fail (walk, "unterminated string");
}

static bool
s_digits (s_walk_t *walk)
{
    const uint8_t *start = walk->p;
    while (walk->p < walk->end && *walk->p >= '0' && *walk->p <= '9')
        walk->p++;
    return walk->p > start;
}

static bool
s_number (s_walk_t *walk)
{
    if (*walk->p == '-')
        walk->p++;
    if (walk->p >= walk->end || *walk->p < '0' || *walk->p > '9')
        return s_fail (walk, "number without digits");
    if (*walk->p == '0') {
        walk->p++;
        if (walk->p < walk->end && *walk->p >= '0' && *walk->p <= '9')
            return s_fail (walk, "number with a leading zero");
    }
    else
        s_digits (walk);
    if (walk->p < walk->end && *walk->p == '.') {
        walk->p++;
        if (!s_digits (walk))
            return s_fail (walk, "number without digits after its point");
    }
    if (walk->p < walk->end && (*walk->p == 'e' || *walk->p == 'E')) {
        walk->p++;
        if (walk->p < walk->end && (*walk->p == '+' || *walk->p == '-'))
            walk->p++;
        if (!s_digits (walk))
            return s_fail (walk, "number without digits in its exponent");
    }
    return true;
}

static bool
s_literal (s_walk_t *walk, const char *word)
{
    size_t length = strlen (word);
    if ((size_t) (walk->end - walk->p) < length || memcmp (walk->p, word, length) != 0)
        return s_fail (walk, "invalid literal");
    walk->p += length;
    return true;
}

static bool
s_array (s_walk_t *walk, int depth)
{
    walk->p++;
    s_skip_space (walk);
    if (walk->p < walk->end && *walk->p == ']') {
        walk->p++;
        return true;
    }
    while (true) {
        if (!s_value (walk, depth + 1))
            return false;
        s_skip_space (walk);
        if (walk->p >= walk->end)
            return s_fail (walk, "unterminated array");
        if (*walk->p == ']') {
            walk->p++;
            return true;
        }
        if (*walk->p != ',')
            return s_fail (walk, "expected ',' or ']' in an array");
        walk->p++;
    }
}

static bool
s_object (s_walk_t *walk, int depth)
{
    walk->p++;
    s_skip_space (walk);
    if (walk->p < walk->end && *walk->p == '}') {
        walk->p++;
        return true;
    }
    while (true) {
        s_skip_space (walk);
        if (walk->p >= walk->end || *walk->p != '"')
            return s_fail (walk, "expected a string member name");
        if (!s_string (walk))
            return false;
        s_skip_space (walk);
        if (walk->p >= walk->end || *walk->p != ':')
            return s_fail (walk, "expected ':' after a member name");
        walk->p++;
        if (!s_value (walk, depth + 1))
            return false;
        s_skip_space (walk);
        if (walk->p >= walk->end)
            return s_fail (walk, "unterminated object");
        if (*walk->p == '}') {
            walk->p++;
            return true;
        }
        if (*walk->p != ',')
            return s_fail (walk, "expected ',' or '}' in an object");
        walk->p++;
    }
}

static bool
s_value (s_walk_t *walk, int depth)
{
    s_skip_space (walk);
    if (walk->p >= walk->end)
        return s_fail (walk, "expected a value");
    switch (*walk->p) {
        case '{':
        case '[':
            if (depth >= ZC_JSON_MAX_DEPTH)
                return s_fail (walk, "nested too deeply");
            return *walk->p == '{'? s_object (walk, depth): s_array (walk, depth);
        case '"':
            return s_string (walk);
        case 't':
            return s_literal (walk, "true");
        case 'f':
            return s_literal (walk, "false");
        case 'n':
            return s_literal (walk, "null");
        default:
            if (*walk->p == '-' || (*walk->p >= '0' && *walk->p <= '9'))
                return s_number (walk);
            return s_fail (walk, "unexpected character");
    }
}

//  Walks the whole text; false with walk->error set if it is not JSON.
static bool
s_walk (s_walk_t *walk, const char *text, size_t size)
{
    memset (walk, 0, sizeof *walk);
    walk->start = walk->p = (const uint8_t *) text;
    walk->end = walk->p + size;
    if (!text || size == 0)
        return s_fail (walk, "empty text");
    if (!s_value (walk, 0))
        return false;
    s_skip_space (walk);
    if (walk->p < walk->end)
        return s_fail (walk, "text after the JSON value");
    return true;
}

const char *
zc_json_check (const char *text, size_t size, size_t *offset_p)
{
    s_walk_t walk;
    s_walk (&walk, text, size);
    if (offset_p)
        *offset_p = text? (size_t) (walk.p - walk.start): 0;
    return walk.error;
}

cJSON *
zc_json_read (const char *text, size_t size, char *error, size_t error_size)
{
    s_walk_t walk;
    const char *reason = NULL;
    if (!s_walk (&walk, text, size))
        reason = walk.error;
    else
    if (walk.nul)
        reason = "string holds U+0000, which zchain does not carry";
    cJSON *json = NULL;
    if (!reason) {
        //  The text is JSON; cJSON failing now is out of memory, or a
        //  disagreement with cJSON that is a bug of ours
        json = cJSON_ParseWithLength (text, size);
        if (!json) {
            zc_log_error ("zc_json: cJSON refused text the checker took (%zu bytes)", size);
            reason = "cannot parse (out of memory)";
        }
    }
    if (reason && error && error_size) {
        if (walk.error && text)
            snprintf (error, error_size, "invalid JSON at byte %zu: %s",
                      (size_t) (walk.p - walk.start), reason);
        else
            snprintf (error, error_size, "invalid JSON: %s", reason);
    }
    return json;
}

cJSON *
zc_json_parse (const char *text, size_t size)
{
    return zc_json_read (text, size, NULL, 0);
}
