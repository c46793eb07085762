/* test_init_json.c: the guest init's JSON parser, valid and hostile input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../../init/json.h"

static char err[256];

static struct json *parse(const char *s)
{
    struct json *j = NULL;

    if (json_parse(s, strlen(s), &j, err, sizeof(err)))
        return NULL;
    return j;
}

static int parse_rc(const char *s)
{
    struct json *j = NULL;
    int rc = json_parse(s, strlen(s), &j, err, sizeof(err));

    json_free(j);
    return rc;
}

static void test_scalars(void)
{
    struct json *j;

    j = parse(" true ");
    CHECK(j && j->type == JSON_TRUE);
    json_free(j);
    j = parse("null");
    CHECK(j && j->type == JSON_NULL);
    json_free(j);
    j = parse("-12.5e2");
    CHECK(j && j->type == JSON_NUMBER && j->num == -1250.0);
    CHECK(j && !strcmp(j->str, "-12.5e2"));
    json_free(j);
    j = parse("0");
    CHECK(j && j->type == JSON_NUMBER && j->num == 0);
    json_free(j);
}

static void test_string_escapes(void)
{
    struct json *j = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");

    CHECK(j && !strcmp(j->str, "a\"b\\c/d\b\f\n\r\t"));
    json_free(j);
    j = parse("\"\\u0041\\u00e9\\u20AC\"");
    CHECK(j && !strcmp(j->str, "A\xc3\xa9\xe2\x82\xac"));
    json_free(j);
    /* U+1F600 as a surrogate pair becomes 4 bytes of UTF-8. */
    j = parse("\"\\ud83d\\ude00\"");
    CHECK(j && j->len == 4 && !memcmp(j->str, "\xf0\x9f\x98\x80", 4));
    json_free(j);
    /* An escaped NUL is kept, with its length. */
    j = parse("\"a\\u0000b\"");
    CHECK(j && j->len == 3 && j->str[1] == '\0');
    json_free(j);
    j = parse("\"h\xc3\xa9llo\"");
    CHECK(j && !strcmp(j->str, "h\xc3\xa9llo"));
    json_free(j);
}

static void test_nesting_and_lookup(void)
{
    struct json *j = parse(
        "{\"process\": {\"Args\": [\"/bin/sh\", \"-c\", \"x\"], \"n\": 1},"
        " \"a\": [], \"o\": {}, \"dup\": 1, \"DUP\": 2}");
    const struct json *p, *args;

    CHECK(j && j->type == JSON_OBJECT && j->len == 5);
    p = json_get(j, "PROCESS");
    CHECK(p && p->type == JSON_OBJECT);
    args = json_get(p, "args");
    CHECK(args && args->type == JSON_ARRAY && args->len == 3);
    CHECK(args && !strcmp(args->child->next->str, "-c"));
    CHECK(json_get(j, "dup") && json_get(j, "dup")->num == 1);
    CHECK(json_get(j, "a") && json_get(j, "a")->len == 0);
    CHECK(json_get(j, "missing") == NULL);
    CHECK(json_get(args, "x") == NULL);
    json_free(j);
}

static void test_errors_name_the_problem(void)
{
    CHECK_EQ(parse_rc(""), -EINVAL);
    CHECK(strstr(err, "end of input"));
    CHECK_EQ(parse_rc("{\"a\" 1}"), -EINVAL);
    CHECK(strstr(err, "offset 5") && strstr(err, "':'"));
    CHECK_EQ(parse_rc("[1,]"), -EINVAL);
    CHECK(strstr(err, "expected a value"));
    CHECK_EQ(parse_rc("[1 2]"), -EINVAL);
    CHECK_EQ(parse_rc("{\"a\":1,}"), -EINVAL);
    CHECK_EQ(parse_rc("\"abc"), -EINVAL);
    CHECK(strstr(err, "unterminated string"));
    CHECK_EQ(parse_rc("\"a\nb\""), -EINVAL);
    CHECK(strstr(err, "control character"));
    CHECK_EQ(parse_rc("\"\\x\""), -EINVAL);
    CHECK(strstr(err, "invalid escape"));
    CHECK_EQ(parse_rc("\"\\u12\""), -EINVAL);
    CHECK_EQ(parse_rc("\"\\ud800\""), -EINVAL);
    CHECK(strstr(err, "surrogate"));
    CHECK_EQ(parse_rc("\"\\udc00\""), -EINVAL);
    CHECK_EQ(parse_rc("\"\\ud800\\u0041\""), -EINVAL);
    CHECK_EQ(parse_rc("01"), -EINVAL);
    CHECK_EQ(parse_rc("1."), -EINVAL);
    CHECK_EQ(parse_rc("1e"), -EINVAL);
    CHECK_EQ(parse_rc("-"), -EINVAL);
    CHECK_EQ(parse_rc("tru"), -EINVAL);
    CHECK_EQ(parse_rc("nul"), -EINVAL);
    CHECK_EQ(parse_rc("{} x"), -EINVAL);
    CHECK(strstr(err, "after the document"));
    CHECK_EQ(parse_rc("{1:2}"), -EINVAL);
    CHECK(strstr(err, "member name"));
    CHECK_EQ(parse_rc("\"\\"), -EINVAL);
}

static void test_depth_limit(void)
{
    char buf[2 * (JSON_MAX_DEPTH + 2) + 1];
    int d;

    for (d = JSON_MAX_DEPTH; d <= JSON_MAX_DEPTH + 1; d++) {
        memset(buf, '[', d);
        memset(buf + d, ']', d);
        buf[2 * d] = '\0';
        if (d == JSON_MAX_DEPTH)
            CHECK_EQ(parse_rc(buf), 0);
        else
            CHECK_EQ(parse_rc(buf), -EINVAL);
    }
    CHECK(strstr(err, "nesting deeper"));
}

static void test_size_and_node_limits(void)
{
    size_t n = JSON_MAX_INPUT + 1;
    char *big = malloc(n);
    struct json *j = NULL;

    memset(big, ' ', n);
    CHECK_EQ(json_parse(big, n, &j, err, sizeof(err)), -E2BIG);
    /* [0,0,0,...] with more values than allowed. */
    n = 2 * (JSON_MAX_NODES + 1) + 1;
    big[0] = '[';
    for (size_t i = 1; i < n - 1; i += 2) {
        big[i] = '0';
        big[i + 1] = ',';
    }
    big[n - 2] = ']';
    CHECK_EQ(json_parse(big, n - 1, &j, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "more than"));
    free(big);
}

static void test_embedded_nul_and_bom(void)
{
    struct json *j = NULL;

    CHECK_EQ(json_parse("[1]\0", 4, &j, err, sizeof(err)), -EINVAL);
    CHECK_EQ(json_parse("\xef\xbb\xbf{}", 5, &j, err, sizeof(err)), 0);
    CHECK(j && j->type == JSON_OBJECT);
    json_free(j);
    /* No error buffer at all is fine too. */
    CHECK_EQ(json_parse("[", 1, &j, NULL, 0), -EINVAL);
}

int main(void)
{
    RUN(test_scalars);
    RUN(test_string_escapes);
    RUN(test_nesting_and_lookup);
    RUN(test_errors_name_the_problem);
    RUN(test_depth_limit);
    RUN(test_size_and_node_limits);
    RUN(test_embedded_nul_and_bom);
    return t_done();
}
