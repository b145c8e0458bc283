/*
 * Tests of the HealBot C ABI: every function, every error path and NULL
 * argument. Built with -std=c99 -Wall -Wextra -Werror and run under valgrind
 * by scripts/test-c.sh. Usage: test_healbot EXAMPLES_DIR (examples/shop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healbot.h"

static int checks = 0;
static int failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        checks++;                                                            \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

/* Checks a result code, frees the error and checks it was (not) written. */
#define EXPECT(call, code)                                                   \
    do {                                                                     \
        healbot_error *err_ = NULL;                                          \
        healbot_result r_ = call;                                            \
        checks++;                                                            \
        if (r_ != (code)) {                                                  \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u: %s\n", \
                    __FILE__, __LINE__, #call, (unsigned)r_,                 \
                    healbot_result_message(r_), (unsigned)(code),            \
                    err_ ? healbot_error_message(err_) : "(no error)");      \
        }                                                                    \
        CHECK((r_ == HEALBOT_RESULT_OK) == (err_ == NULL));                  \
        if (err_) {                                                          \
            CHECK(healbot_error_result(err_) == r_);                         \
            CHECK(healbot_error_message(err_) != NULL);                      \
        }                                                                    \
        healbot_error_free(err_);                                            \
    } while (0)

#define SENTINEL ((void *)0x1)

static char *read_file(const char *dir, const char *name, size_t *len) {
    char path[1024];
    FILE *f;
    long n;
    char *buf;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static const char SIGS[] =
    "apiVersion: healbot.dev/v1\n"
    "kind: SignatureLibrary\n"
    "metadata: {name: lib}\n"
    "spec:\n"
    "  signatures:\n"
    "    - id: cpu.hot\n"
    "      title: CPU hot\n"
    "      category: saturation\n"
    "      severity: warning\n"
    "      match: {metric: {name: cpu, agg: avg, window: 1m, op: \">\", "
    "threshold: 0.9}}\n"
    "      actions: [restart]\n"
    "---\n"
    "apiVersion: healbot.dev/v1\n"
    "kind: ActionLibrary\n"
    "metadata: {name: actions}\n"
    "spec:\n"
    "  actions:\n"
    "    - {id: restart, title: Restart, operation: restart, risk: low, min_confidence: 0.0}\n";

static const char SIGS_JSON[] =
    "{\"apiVersion\": \"healbot.dev/v1\", \"kind\": \"SignatureLibrary\", "
    "\"metadata\": {\"name\": \"lib\"}, \"spec\": {\"signatures\": [{\"id\": "
    "\"cpu.hot\", \"title\": \"CPU hot\", \"category\": \"saturation\", "
    "\"severity\": \"warning\", \"match\": {\"metric\": {\"name\": \"cpu\", "
    "\"agg\": \"avg\", \"window\": \"1m\", \"op\": \">\", \"threshold\": "
    "0.9}}}]}}";

/* A typo on line 9, column 7: `treshold`. */
static const char BAD_SIGS[] =
    "apiVersion: healbot.dev/v1\n"
    "kind: SignatureLibrary\n"
    "metadata: {name: lib}\n"
    "spec:\n"
    "  signatures:\n"
    "    - id: cpu.hot\n"
    "      title: CPU hot\n"
    "      category: saturation\n"
    "      treshold: 3\n"
    "      severity: warning\n"
    "      match: {metric: {name: cpu, agg: avg, window: 1m, op: \">\", "
    "threshold: 0.9}}\n";

static const char TOPO[] =
    "apiVersion: healbot.dev/v1\n"
    "kind: Topology\n"
    "metadata: {name: t}\n"
    "spec: {nodes: [{id: api, kind: service, replicas: 2}, {id: db, kind: "
    "database}]}\n";

static const char TOPO_JSON[] =
    "{\"apiVersion\": \"healbot.dev/v1\", \"kind\": \"Topology\", \"metadata\": "
    "{\"name\": \"t\"}, \"spec\": {\"nodes\": [{\"id\": \"api\", \"kind\": "
    "\"service\"}]}}";

static const char BAD_TOPO[] =
    "apiVersion: healbot.dev/v1\n"
    "kind: Topology\n"
    "metadata: {name: t}\n"
    "spec: {nodes: [{id: api, kind: servise}]}\n";

static const char API[] = "service\0api";
static const char WEB[] = "service\0web";

static const char ALERTS[] =
    "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"healbot\","
    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":"
    "\"KubePodCrashLooping\",\"service\":\"api\"},\"annotations\":{},"
    "\"startsAt\":\"2026-11-14T22:13:20Z\",\"endsAt\":"
    "\"0001-01-01T00:00:00Z\",\"fingerprint\":\"f1\"}]}";

static const char NDJSON[] =
    "{\"type\":\"metric\",\"name\":\"cpu\",\"labels\":{\"service\":\"api\"},"
    "\"value\":0.97,\"at\":1000}\n"
    "not json\n";

static size_t len(const char *s) { return strlen(s); }
static const uint8_t *u8(const char *s) { return (const uint8_t *)s; }

static void test_version(void) {
    const char *v = healbot_version();
    CHECK(v != NULL && v[0] >= '0' && v[0] <= '9');
    CHECK(strchr(v, '.') != NULL);
    CHECK(healbot_abi_version() == HEALBOT_ABI_VERSION);
}

static void test_results(void) {
    uint32_t code;
    for (code = HEALBOT_RESULT_OK; code <= HEALBOT_RESULT_OTHER; code++) {
        const char *m = healbot_result_message(code);
        CHECK(m != NULL && m[0] != '\0');
        CHECK(strcmp(m, "unknown result code") != 0);
    }
    CHECK(strcmp(healbot_result_message(HEALBOT_RESULT_OK), "ok") == 0);
    CHECK(strcmp(healbot_result_message(12345), "unknown result code") == 0);
}

static void test_panic(void) {
    healbot_error *err = NULL;
    CHECK(healbot_test_panic(&err) == HEALBOT_RESULT_PANIC);
    CHECK(err != NULL);
    CHECK(healbot_error_result(err) == HEALBOT_RESULT_PANIC);
    CHECK(strstr(healbot_error_message(err), "healbot_test_panic") != NULL);
    CHECK(healbot_error_diagnostic_count(err) == 0);
    CHECK(healbot_error_diagnostic(err, 0) == NULL);
    healbot_error_free(err);
    /* Without an error out-parameter the code still comes back. */
    CHECK(healbot_test_panic(NULL) == HEALBOT_RESULT_PANIC);
    /* And the process is alive. */
    CHECK(healbot_abi_version() == HEALBOT_ABI_VERSION);
}

static void test_error_null(void) {
    CHECK(healbot_error_result(NULL) == HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(healbot_error_message(NULL) == NULL);
    CHECK(healbot_error_diagnostic_count(NULL) == 0);
    CHECK(healbot_error_diagnostic(NULL, 0) == NULL);
    healbot_error_free(NULL);
}

static void test_buffer_null(void) {
    CHECK(healbot_buffer_data(NULL) == NULL);
    CHECK(healbot_buffer_len(NULL) == 0);
    healbot_buffer_free(NULL);
}

static void test_library(const char *dir) {
    healbot_library *lib = SENTINEL;
    healbot_error *err = NULL;
    const healbot_diagnostic *d;
    const char *names[3] = {"signatures.yaml", "actions.yaml", "overrides.yaml"};
    const uint8_t *texts[3];
    size_t lens[3];
    char *owned[3];
    int i;

    /* One YAML stream. */
    CHECK(healbot_library_new("lib.yaml", u8(SIGS), len(SIGS), HEALBOT_FORMAT_YAML, &lib, NULL) ==
          HEALBOT_RESULT_OK);
    CHECK(lib != SENTINEL && lib != NULL);
    CHECK(healbot_library_signature_count(lib) == 1);
    CHECK(healbot_library_action_count(lib) == 1);
    CHECK(strlen(healbot_library_revision(lib)) == 16);
    healbot_library_free(lib);

    /* JSON, explicit and by name. */
    EXPECT(healbot_library_new("lib", u8(SIGS_JSON), len(SIGS_JSON), HEALBOT_FORMAT_JSON, &lib, &err_),
           HEALBOT_RESULT_OK);
    healbot_library_free(lib);
    EXPECT(healbot_library_new("lib.json", u8(SIGS_JSON), len(SIGS_JSON), HEALBOT_FORMAT_AUTO, &lib, &err_),
           HEALBOT_RESULT_OK);
    healbot_library_free(lib);
    /* JSON read as YAML is also fine (JSON is YAML); YAML read as JSON is not. */
    EXPECT(healbot_library_new("lib.json", u8(SIGS), len(SIGS), HEALBOT_FORMAT_AUTO, &lib, &err_),
           HEALBOT_RESULT_LIBRARY);

    /* Diagnostics with positions; the output stays untouched. */
    lib = SENTINEL;
    CHECK(healbot_library_new("bad.yaml", u8(BAD_SIGS), len(BAD_SIGS), HEALBOT_FORMAT_AUTO, &lib, &err) ==
          HEALBOT_RESULT_LIBRARY);
    CHECK(lib == SENTINEL);
    CHECK(err != NULL);
    CHECK(healbot_error_result(err) == HEALBOT_RESULT_LIBRARY);
    CHECK(healbot_error_diagnostic_count(err) >= 1);
    d = healbot_error_diagnostic(err, 0);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->severity == HEALBOT_SEVERITY_ERROR);
        CHECK(strcmp(d->code, "unknown-field") == 0);
        CHECK(strcmp(d->file, "bad.yaml") == 0);
        CHECK(d->line == 9);
        CHECK(d->column == 7);
        CHECK(strstr(d->path, "treshold") != NULL);
        CHECK(strstr(d->message, "treshold") != NULL);
        CHECK(d->suggestion == NULL || strstr(d->suggestion, "threshold") != NULL);
        CHECK(d->expected == NULL || d->expected[0] != '\0');
        CHECK(d->found == NULL || d->found[0] != '\0');
    }
    CHECK(healbot_error_diagnostic(err, healbot_error_diagnostic_count(err)) == NULL);
    healbot_error_free(err);
    err = NULL;

    /* Not YAML at all, and not UTF-8. */
    EXPECT(healbot_library_new("x.yaml", u8("a: [1, 2"), 8, HEALBOT_FORMAT_YAML, &lib, &err_),
           HEALBOT_RESULT_LIBRARY);
    EXPECT(healbot_library_new("x.yaml", u8("\xff\xfe"), 2, HEALBOT_FORMAT_YAML, &lib, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_library_new("\xff", u8(SIGS), len(SIGS), HEALBOT_FORMAT_YAML, &lib, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    /* Empty text: no document. */
    EXPECT(healbot_library_new("x.yaml", NULL, 0, HEALBOT_FORMAT_YAML, &lib, &err_), HEALBOT_RESULT_LIBRARY);
    /* A topology is not a library. */
    EXPECT(healbot_library_new("t.yaml", u8(TOPO), len(TOPO), HEALBOT_FORMAT_YAML, &lib, &err_),
           HEALBOT_RESULT_LIBRARY);
    /* Bad arguments. */
    EXPECT(healbot_library_new("x.yaml", u8(SIGS), len(SIGS), 3, &lib, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_library_new(NULL, u8(SIGS), len(SIGS), 0, &lib, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_library_new("x.yaml", NULL, 5, 0, &lib, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_library_new("x.yaml", u8(SIGS), len(SIGS), 0, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(healbot_library_new("x.yaml", u8(SIGS), len(SIGS), 0, NULL, NULL) == HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(lib == SENTINEL);

    /* Several sources: the shop example. */
    for (i = 0; i < 3; i++) {
        owned[i] = read_file(dir, names[i], &lens[i]);
        texts[i] = u8(owned[i]);
    }
    EXPECT(healbot_library_new_from_sources(names, texts, lens, 3, &lib, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_library_signature_count(lib) == 5);
    CHECK(healbot_library_action_count(lib) == 5);
    healbot_library_free(lib);
    lib = SENTINEL;
    /* Signatures without their actions: unknown references. */
    CHECK(healbot_library_new_from_sources(names, texts, lens, 1, &lib, &err) == HEALBOT_RESULT_LIBRARY);
    CHECK(healbot_error_diagnostic_count(err) >= 1);
    d = healbot_error_diagnostic(err, 0);
    CHECK(d != NULL && strcmp(d->code, "unknown-reference") == 0 && strcmp(d->file, "signatures.yaml") == 0);
    healbot_error_free(err);
    err = NULL;
    EXPECT(healbot_library_new_from_sources(NULL, 0, NULL, 0, &lib, &err_), HEALBOT_RESULT_LIBRARY);
    EXPECT(healbot_library_new_from_sources(NULL, texts, lens, 3, &lib, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_library_new_from_sources(names, NULL, lens, 3, &lib, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_library_new_from_sources(names, texts, NULL, 3, &lib, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_library_new_from_sources(names, texts, lens, 3, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    {
        const char *null_name[1] = {NULL};
        const uint8_t *null_text[1] = {NULL};
        const uint8_t *second_null[2] = {texts[0], NULL};
        EXPECT(healbot_library_new_from_sources(null_name, texts, lens, 1, &lib, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_library_new_from_sources(names, null_text, lens, 1, &lib, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        /* The error names the element. */
        CHECK(healbot_library_new_from_sources(names, second_null, lens, 2, &lib, &err) ==
              HEALBOT_RESULT_NULL_PARAMETER);
        CHECK(err && strstr(healbot_error_message(err), "texts[1]") != NULL);
        healbot_error_free(err);
        err = NULL;
    }
    CHECK(lib == SENTINEL);
    for (i = 0; i < 3; i++) free(owned[i]);

    /* NULL handles. */
    CHECK(healbot_library_revision(NULL) == NULL);
    CHECK(healbot_library_signature_count(NULL) == 0);
    CHECK(healbot_library_action_count(NULL) == 0);
    healbot_library_free(NULL);
}

static void test_topology(const char *dir) {
    healbot_topology *topo = SENTINEL;
    healbot_error *err = NULL;
    const healbot_diagnostic *d;
    size_t n;
    char *text = read_file(dir, "topology.yaml", &n);

    EXPECT(healbot_topology_new("topology.yaml", u8(text), n, HEALBOT_FORMAT_AUTO, &topo, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_topology_node_count(topo) == 11);
    healbot_topology_free(topo);
    free(text);
    EXPECT(healbot_topology_new("t", u8(TOPO_JSON), len(TOPO_JSON), HEALBOT_FORMAT_JSON, &topo, &err_),
           HEALBOT_RESULT_OK);
    CHECK(healbot_topology_node_count(topo) == 1);
    healbot_topology_free(topo);

    topo = SENTINEL;
    CHECK(healbot_topology_new("t.yaml", u8(BAD_TOPO), len(BAD_TOPO), HEALBOT_FORMAT_YAML, &topo, &err) ==
          HEALBOT_RESULT_TOPOLOGY);
    CHECK(topo == SENTINEL);
    CHECK(healbot_error_diagnostic_count(err) >= 1);
    d = healbot_error_diagnostic(err, 0);
    CHECK(d != NULL && d->line == 4 && strcmp(d->file, "t.yaml") == 0);
    healbot_error_free(err);

    EXPECT(healbot_topology_new("t.yaml", u8(SIGS), len(SIGS), HEALBOT_FORMAT_YAML, &topo, &err_),
           HEALBOT_RESULT_TOPOLOGY);
    EXPECT(healbot_topology_new("t.yaml", u8("\xff"), 1, HEALBOT_FORMAT_YAML, &topo, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_topology_new("t.yaml", u8(TOPO), len(TOPO), 99, &topo, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_topology_new(NULL, u8(TOPO), len(TOPO), 0, &topo, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_new("t.yaml", NULL, 1, 0, &topo, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_new("t.yaml", u8(TOPO), len(TOPO), 0, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(topo == SENTINEL);
    CHECK(healbot_topology_node_count(NULL) == 0);
    healbot_topology_free(NULL);
}

static healbot_library *small_library(void) {
    healbot_library *lib = NULL;
    CHECK(healbot_library_new("lib.yaml", u8(SIGS), len(SIGS), 0, &lib, NULL) == HEALBOT_RESULT_OK);
    return lib;
}

static healbot_topology *small_topology(void) {
    healbot_topology *topo = NULL;
    CHECK(healbot_topology_new("t.yaml", u8(TOPO), len(TOPO), 0, &topo, NULL) == HEALBOT_RESULT_OK);
    return topo;
}

static healbot_engine *new_engine(const char *config) {
    healbot_library *lib = small_library();
    healbot_topology *topo = small_topology();
    healbot_engine *engine = NULL;
    EXPECT(healbot_engine_new(lib, topo, u8(config), config ? len(config) : 0, &engine, &err_), HEALBOT_RESULT_OK);
    /* The engine keeps its own references. */
    healbot_library_free(lib);
    healbot_topology_free(topo);
    return engine;
}

static char *stats(healbot_engine *engine) {
    healbot_buffer *buf = NULL;
    char *copy;
    EXPECT(healbot_engine_stats_json(engine, &buf, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_buffer_data(buf)[healbot_buffer_len(buf)] == '\0');
    copy = malloc(healbot_buffer_len(buf) + 1);
    memcpy(copy, healbot_buffer_data(buf), healbot_buffer_len(buf) + 1);
    healbot_buffer_free(buf);
    return copy;
}

static void test_engine_new(void) {
    healbot_library *lib = small_library();
    healbot_topology *topo = small_topology();
    healbot_engine *engine = SENTINEL;
    const char *bad = "{\"max_series\": \"many\"}";
    EXPECT(healbot_engine_new(NULL, topo, NULL, 0, &engine, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_new(lib, NULL, NULL, 0, &engine, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_new(lib, topo, NULL, 0, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_new(lib, topo, NULL, 3, &engine, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_new(lib, topo, u8(bad), len(bad), &engine, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_new(lib, topo, u8("nope"), 4, &engine, &err_), HEALBOT_RESULT_INVALID_INPUT);
    CHECK(engine == SENTINEL);
    EXPECT(healbot_engine_new(lib, topo, u8("{}"), 2, &engine, &err_), HEALBOT_RESULT_OK);
    healbot_engine_free(engine);
    healbot_engine_free(NULL);
    healbot_library_free(lib);
    healbot_topology_free(topo);
}

static void test_ingest(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_engine *limited = new_engine("{\"max_series\": 1, \"max_payload_bytes\": 64}");
    char *s;

    /* Scalar. */
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", API, sizeof API, 0.95, 1000, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", NULL, 0, 0.95, 1000, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_metric(engine, "unread", API, sizeof API, 1, 1000, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_metric(NULL, "cpu", API, sizeof API, 1, 1000, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_ingest_metric(engine, NULL, API, sizeof API, 1, 1000, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", NULL, 4, 1, 1000, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", API, sizeof API - 1, 1, 1000, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", "service\0", 8, 1, 1000, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", "\0api\0", 5, 1, 1000, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", "service\0\xff\0", 10, 1, 1000, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_metric(engine, "\xff", API, sizeof API, 1, 1000, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_metric(limited, "cpu", API, sizeof API, 1, 1000, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_metric(limited, "cpu", WEB, sizeof WEB, 1, 1000, &err_), HEALBOT_RESULT_OK);
    {
        static const char API2[] = "service\0api\0zone\0b";
        EXPECT(healbot_engine_ingest_metric(limited, "cpu", API2, sizeof API2, 1, 1000, &err_), HEALBOT_RESULT_LIMIT);
    }

    /* Batch, one name per sample. */
    {
        const char *names[3] = {"cpu", "cpu", "cpu"};
        const char *labels[3] = {API, API, WEB};
        size_t lens[3] = {sizeof API, sizeof API, sizeof WEB};
        double values[3] = {0.95, 0.96, 0.5};
        int64_t at[3] = {2000, 3000, 3000};
        const char *bad_names[3] = {"cpu", NULL, "cpu"};
        size_t bad_lens[3] = {sizeof API, 3, sizeof WEB};
        healbot_error *err = NULL;
        EXPECT(healbot_engine_ingest_metrics(engine, names, labels, lens, values, at, 3, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_metrics(engine, NULL, NULL, NULL, NULL, NULL, 0, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_metrics(NULL, names, labels, lens, values, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_metrics(engine, NULL, labels, lens, values, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_metrics(engine, names, NULL, lens, values, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_metrics(engine, names, labels, NULL, values, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_metrics(engine, names, labels, lens, NULL, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_metrics(engine, names, labels, lens, values, NULL, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        /* One bad sample: the others still count, the first rejection is reported. */
        CHECK(healbot_engine_ingest_metrics(engine, bad_names, labels, bad_lens, values, at, 3, &err) ==
              HEALBOT_RESULT_NULL_PARAMETER);
        CHECK(err && strstr(healbot_error_message(err), "1 of 3 samples") != NULL);
        CHECK(err && strstr(healbot_error_message(err), "index 1") != NULL);
        healbot_error_free(err);
        err = NULL;
        CHECK(healbot_engine_ingest_metrics(limited, names, labels, lens, values, at, 3, &err) ==
              HEALBOT_RESULT_OK);
        {
            static const char API3[] = "service\0api\0zone\0c";
            const char *more[2] = {API3, API};
            size_t more_lens[2] = {sizeof API3, sizeof API};
            CHECK(healbot_engine_ingest_metrics(limited, names, more, more_lens, values, at, 2, &err) ==
                  HEALBOT_RESULT_LIMIT);
            CHECK(err && strstr(healbot_error_message(err), "1 of 2 samples") != NULL);
            healbot_error_free(err);
        }
    }

    /* Batch, one series. */
    {
        double values[4] = {0.91, 0.92, 0.93, 0.94};
        int64_t at[4] = {4000, 5000, 6000, 7000};
        EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, values, at, 4, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, NULL, NULL, 0, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_series(NULL, "cpu", API, sizeof API, values, at, 4, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_series(engine, NULL, API, sizeof API, values, at, 4, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_series(engine, "cpu", NULL, 3, values, at, 4, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, NULL, at, 4, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, values, NULL, 4, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_series(engine, "cpu", "x", 1, values, at, 4, &err_),
               HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_series(limited, "cpu", "zone\0d", 7, values, at, 4, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_series(limited, "cpu", "service\0api\0zone\0d", 19, values, at, 4, &err_),
               HEALBOT_RESULT_LIMIT);
    }

    /* Batch, packed records. */
    {
        static const char RECORDS[] = "cpu\0service\0api\0\0cpu\0service\0api\0\0cpu\0\0";
        double values[3] = {0.95, 0.96, 0.97};
        int64_t at[3] = {8000, 9000, 9000};
        EXPECT(healbot_engine_ingest_packed(engine, RECORDS, sizeof RECORDS - 1, values, at, 3, &err_),
               HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_packed(engine, NULL, 0, NULL, NULL, 0, &err_), HEALBOT_RESULT_OK);
        /* Fewer records than samples. */
        EXPECT(healbot_engine_ingest_packed(engine, RECORDS, 17, values, at, 3, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_packed(engine, "cpu", 3, values, at, 1, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_packed(engine, "cpu\0k\0\0", 7, values, at, 1, &err_),
               HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_packed(engine, "\xff\0\0", 3, values, at, 1, &err_),
               HEALBOT_RESULT_INVALID_INPUT);
        /* More records than samples: the buffer and the arrays disagree
         * (a record split by a stray NUL, a wrong count). */
        {
            healbot_error *err = NULL;
            CHECK(healbot_engine_ingest_packed(engine, RECORDS, sizeof RECORDS - 1, values, at, 2, &err) ==
                  HEALBOT_RESULT_INVALID_INPUT);
            CHECK(err != NULL && strstr(healbot_error_message(err), "more records than samples") != NULL);
            healbot_error_free(err);
        }
        EXPECT(healbot_engine_ingest_packed(engine, "cpu\0\0\0", 6, values, at, 1, &err_),
               HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_packed(NULL, RECORDS, sizeof RECORDS - 1, values, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_packed(engine, NULL, 5, values, at, 3, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_packed(engine, RECORDS, sizeof RECORDS - 1, NULL, at, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_packed(engine, RECORDS, sizeof RECORDS - 1, values, NULL, 3, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_packed(limited, "cpu\0service\0db\0\0", 17, values, at, 1, &err_),
               HEALBOT_RESULT_LIMIT);
    }

    /* Payloads. */
    {
        healbot_payload_format f = 0;
        healbot_ingest_report report = {99, 99, 99};
        EXPECT(healbot_payload_format_from_name("alertmanager", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_ALERTMANAGER);
        EXPECT(healbot_payload_format_from_name("Prometheus-Text", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_PROMETHEUS_TEXT);
        EXPECT(healbot_payload_format_from_name("otlp_logs", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_OTLP_LOGS);
        EXPECT(healbot_payload_format_from_name("otlp_metrics", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_OTLP_METRICS);
        EXPECT(healbot_payload_format_from_name("k8s_events", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_K8S_EVENTS);
        EXPECT(healbot_payload_format_from_name("pagerduty", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_PAGER_DUTY);
        EXPECT(healbot_payload_format_from_name("ndjson", &f, &err_), HEALBOT_RESULT_OK);
        CHECK(f == HEALBOT_PAYLOAD_FORMAT_NDJSON);
        f = 0;
        EXPECT(healbot_payload_format_from_name("alertmanagr", &f, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_payload_format_from_name(NULL, &f, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_payload_format_from_name("ndjson", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        CHECK(f == 0);

        EXPECT(healbot_engine_ingest_payload(engine, HEALBOT_PAYLOAD_FORMAT_NDJSON, u8(NDJSON), len(NDJSON), 0,
                                             &report, &err_),
               HEALBOT_RESULT_OK);
        CHECK(report.observations == 1 && report.malformed == 1 && report.dropped == 0);
        EXPECT(healbot_engine_ingest_payload(engine, HEALBOT_PAYLOAD_FORMAT_ALERTMANAGER, u8(ALERTS), len(ALERTS), 0,
                                             NULL, &err_),
               HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_payload(engine, HEALBOT_PAYLOAD_FORMAT_PROMETHEUS_TEXT,
                                             u8("cpu{service=\"api\"} 0.99\n"), 25, 10000, &report, &err_),
               HEALBOT_RESULT_OK);
        CHECK(report.observations == 1);
        report.observations = 99;
        EXPECT(healbot_engine_ingest_payload(engine, HEALBOT_PAYLOAD_FORMAT_ALERTMANAGER, u8("{"), 1, 0, &report,
                                             &err_),
               HEALBOT_RESULT_TELEMETRY);
        CHECK(report.observations == 99);
        EXPECT(healbot_engine_ingest_payload(limited, HEALBOT_PAYLOAD_FORMAT_ALERTMANAGER, u8(ALERTS), len(ALERTS),
                                             0, &report, &err_),
               HEALBOT_RESULT_LIMIT);
        EXPECT(healbot_engine_ingest_payload(engine, 0, u8(ALERTS), len(ALERTS), 0, &report, &err_),
               HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_payload(engine, 8, u8(ALERTS), len(ALERTS), 0, &report, &err_),
               HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_engine_ingest_payload(NULL, 1, u8(ALERTS), len(ALERTS), 0, &report, &err_),
               HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_payload(engine, 1, NULL, 10, 0, &report, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    }

    /* Node health. */
    EXPECT(healbot_engine_set_node_health(engine, "db", HEALBOT_HEALTH_UNHEALTHY, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_set_node_health(engine, "db", HEALBOT_HEALTH_HEALTHY, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_set_node_health(engine, "db", HEALBOT_HEALTH_UNSET, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_set_node_health(engine, "nope", HEALBOT_HEALTH_HEALTHY, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_set_node_health(engine, "db", 3, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_set_node_health(NULL, "db", 1, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_set_node_health(engine, NULL, 1, &err_), HEALBOT_RESULT_NULL_PARAMETER);

    /* Stats. */
    s = stats(engine);
    CHECK(strstr(s, "\"series\":1") != NULL);
    CHECK(strstr(s, "\"not_read\":1") != NULL);
    CHECK(strstr(s, "\"alert\":1") != NULL);
    CHECK(strstr(s, "\"ingested_metrics\":") != NULL);
    free(s);
    s = stats(limited);
    CHECK(strstr(s, "\"series_limit\"") != NULL);
    free(s);
    {
        healbot_buffer *buf = SENTINEL;
        EXPECT(healbot_engine_stats_json(NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_stats_json(engine, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        CHECK(buf == SENTINEL);
    }

    healbot_engine_free(engine);
    healbot_engine_free(limited);
}


/* A length no array can have (a negative length cast to size_t, a garbage
 * count) or a pointer not aligned for its element type is invalid input:
 * the call fails before the library makes a slice of it, and the process
 * lives on. The engine is unchanged. */
static void test_impossible_arrays(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_library *lib = SENTINEL;
    double values[3] = {0.5, 0.6, 0.7};
    int64_t ats[3] = {1000, 2000, 3000};
    union {
        int64_t aligned[4];
        unsigned char bytes[32];
    } storage;
    const int64_t *misaligned = (const int64_t *)(const void *)(storage.bytes + 1);
    const char *names[1] = {"cpu"};
    const char *labels[1] = {API};
    size_t lens[1] = {sizeof API};
    uint64_t handles[1] = {0};
    const char *snames[1] = {"lib.yaml"};
    const uint8_t *texts[1] = {(const uint8_t *)SIGS};
    size_t tlens[1] = {(size_t)-1};
    char *s;
    memset(&storage, 0, sizeof storage);
    EXPECT(healbot_library_new("lib.yaml", u8(SIGS), (size_t)-1, 0, &lib, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_library_new_from_sources(snames, texts, tlens, 1, &lib, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_library_new_from_sources(snames, texts, lens, SIZE_MAX / 2, &lib, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    CHECK(lib == SENTINEL);
    EXPECT(healbot_engine_ingest_metric(engine, "cpu", API, SIZE_MAX, 1, 1000, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, values, ats, SIZE_MAX / 4, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, values, misaligned, 3, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_metrics(engine, names, labels, lens, values, ats, SIZE_MAX / 8 + 1, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_handles(engine, handles, values, ats, SIZE_MAX / 2, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_payload(engine, HEALBOT_PAYLOAD_FORMAT_NDJSON, u8("{}"), (size_t)-2, 0, NULL, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    {
        healbot_error *err = NULL;
        CHECK(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, values, ats, SIZE_MAX, &err) ==
              HEALBOT_RESULT_INVALID_INPUT);
        CHECK(err != NULL && strstr(healbot_error_message(err), "values") != NULL);
        healbot_error_free(err);
    }
    /* Nothing was ingested; the engine still works. */
    s = stats(engine);
    CHECK(strstr(s, "\"ingested_metrics\":0") != NULL);
    free(s);
    EXPECT(healbot_engine_ingest_series(engine, "cpu", API, sizeof API, values, ats, 3, &err_), HEALBOT_RESULT_OK);
    s = stats(engine);
    CHECK(strstr(s, "\"ingested_metrics\":3") != NULL);
    free(s);
    healbot_engine_free(engine);
}

static void test_series_handles(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_engine *limited = new_engine("{\"max_series\": 1}");
    uint64_t h = 77, h2 = 0, none = 77;
    char *s;
    EXPECT(healbot_engine_resolve_series(engine, "cpu", API, sizeof API, &h, &err_), HEALBOT_RESULT_OK);
    CHECK(h != 0 && h != 77);
    EXPECT(healbot_engine_resolve_series(engine, "cpu", API, sizeof API, &h2, &err_), HEALBOT_RESULT_OK);
    CHECK(h2 == h);
    /* Not read, and attached to no node: 0. */
    EXPECT(healbot_engine_resolve_series(engine, "unread", API, sizeof API, &none, &err_), HEALBOT_RESULT_OK);
    CHECK(none == 0);
    none = 77;
    EXPECT(healbot_engine_resolve_series(engine, "cpu", WEB, sizeof WEB, &none, &err_), HEALBOT_RESULT_OK);
    CHECK(none == 0);
    h2 = 77;
    EXPECT(healbot_engine_resolve_series(engine, NULL, API, sizeof API, &h2, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_resolve_series(NULL, "cpu", API, sizeof API, &h2, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_resolve_series(engine, "cpu", NULL, 2, &h2, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_resolve_series(engine, "cpu", API, sizeof API, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_resolve_series(engine, "cpu", API, 3, &h2, &err_), HEALBOT_RESULT_INVALID_INPUT);
    CHECK(h2 == 77);
    EXPECT(healbot_engine_resolve_series(limited, "cpu", API, sizeof API, &h2, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_resolve_series(limited, "cpu", "service\0db", 11, &h2, &err_), HEALBOT_RESULT_LIMIT);

    EXPECT(healbot_engine_ingest_by_handle(engine, h, 0.95, 1000, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_by_handle(engine, 0, 0.95, 1000, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_by_handle(engine, h + 100, 0.95, 1000, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_by_handle(engine, UINT64_MAX, 0.95, 1000, &err_), HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_by_handle(NULL, h, 0.95, 1000, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    {
        uint64_t series[4] = {h, h, 0, h};
        uint64_t bad[3] = {h, 999, h};
        double values[4] = {0.96, 0.97, 0.5, 0.98};
        int64_t at[4] = {2000, 3000, 3000, 4000};
        healbot_error *err = NULL;
        EXPECT(healbot_engine_ingest_handles(engine, series, values, at, 4, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_handles(engine, NULL, NULL, NULL, 0, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_ingest_handles(NULL, series, values, at, 4, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_handles(engine, NULL, values, at, 4, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_handles(engine, series, NULL, at, 4, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        EXPECT(healbot_engine_ingest_handles(engine, series, values, NULL, 4, &err_), HEALBOT_RESULT_NULL_PARAMETER);
        CHECK(healbot_engine_ingest_handles(engine, bad, values, at, 3, &err) == HEALBOT_RESULT_INVALID_INPUT);
        CHECK(err && strstr(healbot_error_message(err), "1 of 3 samples") != NULL);
        healbot_error_free(err);
    }
    s = stats(engine);
    CHECK(strstr(s, "\"ingested_metrics\":6") != NULL);
    free(s);
    healbot_engine_free(engine);
    healbot_engine_free(limited);
}

/* Feeds cpu=0.97 on api for a minute, the small library's cpu.hot signature. */
static void feed_hot_cpu(healbot_engine *engine) {
    int64_t i;
    for (i = 0; i <= 6; i++)
        EXPECT(healbot_engine_ingest_metric(engine, "cpu", API, sizeof API, 0.97, 1000000 + i * 10000, &err_),
               HEALBOT_RESULT_OK);
}

static void test_evaluate(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_engine *dry = new_engine("{\"dry_run\": true}");
    healbot_decisions *ds = SENTINEL;
    const healbot_decision *d;
    healbot_buffer *json = SENTINEL;
    char id[256];
    bool recorded = false;

    /* Nothing ingested yet: no decision. */
    EXPECT(healbot_engine_evaluate(engine, 1000, &ds, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_decisions_count(ds) == 0);
    CHECK(healbot_decisions_get(ds, 0) == NULL);
    healbot_decisions_free(ds);

    feed_hot_cpu(engine);
    EXPECT(healbot_engine_evaluate(engine, 1060000, &ds, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_decisions_count(ds) == 1);
    d = healbot_decisions_get(ds, 0);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(strcmp(d->node, "api") == 0);
    CHECK(strcmp(d->signature_id, "cpu.hot") == 0);
    CHECK(d->verdict == HEALBOT_VERDICT_EXECUTE);
    CHECK(d->root_role == HEALBOT_ROOT_ROLE_ROOT);
    CHECK(strcmp(d->root_cause_node, "api") == 0);
    CHECK(d->confidence > 0.0 && d->confidence <= 1.0);
    CHECK(d->at_ms == 1060000 && d->onset_ms <= d->at_ms);
    CHECK(d->action_id && strcmp(d->action_id, "restart") == 0);
    CHECK(d->action_operation && strcmp(d->action_operation, "restart") == 0);
    CHECK(d->action_target && strcmp(d->action_target, "api") == 0);
    CHECK(strstr(d->json, "\"explanation\"") != NULL);
    CHECK(strstr(d->json, d->id) != NULL);
    CHECK(healbot_decisions_get(ds, 1) == NULL);
    snprintf(id, sizeof id, "%s", d->id);
    healbot_decisions_free(ds);

    EXPECT(healbot_engine_evaluate_json(engine, 1060000, &json, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_buffer_len(json) > 2);
    CHECK(healbot_buffer_data(json)[0] == '[');
    CHECK(strstr((const char *)healbot_buffer_data(json), id) != NULL);
    healbot_buffer_free(json);

    ds = SENTINEL;
    json = SENTINEL;
    EXPECT(healbot_engine_evaluate(NULL, 1, &ds, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_evaluate(engine, 1, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_evaluate_json(NULL, 1, &json, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_evaluate_json(engine, 1, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(ds == SENTINEL && json == SENTINEL);

    /* The ledger. */
    EXPECT(healbot_engine_record_execution(engine, id, "restart", "api", 1061000, true, &recorded, &err_),
           HEALBOT_RESULT_OK);
    CHECK(recorded);
    EXPECT(healbot_engine_record_execution(engine, id, "restart", "api", 1061000, true, &recorded, &err_),
           HEALBOT_RESULT_OK);
    CHECK(!recorded); /* idempotent */
    EXPECT(healbot_engine_record_execution(engine, id, "restart", "api", 1061000, true, NULL, &err_),
           HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_record_execution(engine, id, "nope", "api", 1061000, true, &recorded, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_record_execution(engine, id, "restart", "nowhere", 1061000, true, &recorded, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_record_execution(NULL, id, "restart", "api", 1, true, &recorded, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_record_execution(engine, NULL, "restart", "api", 1, true, &recorded, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_record_execution(engine, id, NULL, "api", 1, true, &recorded, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_record_execution(engine, id, "restart", NULL, 1, true, &recorded, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_record_execution(dry, id, "restart", "api", 1, true, &recorded, &err_),
           HEALBOT_RESULT_INVALID_INPUT);

    EXPECT(healbot_engine_record_outcome(engine, id, true, 1120000, &recorded, &err_), HEALBOT_RESULT_OK);
    CHECK(recorded);
    EXPECT(healbot_engine_record_outcome(engine, id, true, 1120000, NULL, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_record_outcome(engine, "no-such-decision", true, 1, &recorded, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_record_outcome(NULL, id, true, 1, &recorded, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_record_outcome(engine, NULL, true, 1, &recorded, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_record_outcome(dry, id, true, 1, &recorded, &err_), HEALBOT_RESULT_INVALID_INPUT);

    /* Right after the restart, its cooldown-free action still runs; the
       decision is again for cpu.hot on api. */
    EXPECT(healbot_engine_evaluate(engine, 1070000, &ds, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_decisions_count(ds) == 1);
    healbot_decisions_free(ds);

    healbot_engine_free(engine);
    healbot_engine_free(dry);
}

/* A graph for the topology queries: web -> api -> {db, cache}, api runs on
   vm, and lone stands apart (a second shard). */
static const char GRAPH[] =
    "apiVersion: healbot.dev/v1\n"
    "kind: Topology\n"
    "metadata: {name: g}\n"
    "spec:\n"
    "  nodes:\n"
    "    - {id: web, kind: load_balancer, tier: 1, depends_on: [api]}\n"
    "    - {id: api, kind: service, tier: 2, aliases: [api-svc], depends_on: [db, cache], runs_on: [vm]}\n"
    "    - {id: db, kind: database, tier: 1, replicas: 2, labels: {team: data}}\n"
    "    - {id: cache, kind: cache, tier: 3}\n"
    "    - {id: vm, kind: host, tier: 4}\n"
    "    - {id: lone, kind: external, tier: 4}\n";

/* Checks that a call wrote a JSON buffer equal to `want` to `buf` (a
   variable of the macro), and frees it. */
#define EXPECT_JSON(call, want)                                                          \
    do {                                                                                 \
        healbot_buffer *buf = NULL;                                                      \
        EXPECT(call, HEALBOT_RESULT_OK);                                                 \
        checks++;                                                                        \
        if (!buf || strcmp((const char *)healbot_buffer_data(buf), (want)) != 0 ||       \
            healbot_buffer_len(buf) != strlen(want)) {                                   \
            failures++;                                                                  \
            fprintf(stderr, "%s:%d: %s wrote %s, expected %s\n", __FILE__, __LINE__,     \
                    #call, buf ? (const char *)healbot_buffer_data(buf) : "(nothing)",   \
                    (want));                                                             \
        }                                                                                \
        healbot_buffer_free(buf);                                                        \
    } while (0)

static void test_graph(void) {
    healbot_topology *g = NULL;
    healbot_buffer *buf = SENTINEL;
    healbot_blast_radius radius = {99, 99.0};
    const char *kind = SENTINEL;
    uint8_t tier = 99;
    size_t shard = 99, lone = 99;
    const char *s;

    EXPECT(healbot_topology_new("g.yaml", u8(GRAPH), len(GRAPH), HEALBOT_FORMAT_AUTO, &g, &err_), HEALBOT_RESULT_OK);
    if (!g) return;
    CHECK(healbot_topology_node_count(g) == 6);

    /* Nodes (in the core's node order, not the document's), membership, one node. */
    EXPECT_JSON(healbot_topology_nodes_json(g, &buf, &err_), "[\"cache\",\"api\",\"web\",\"db\",\"lone\",\"vm\"]");
    CHECK(healbot_topology_contains(g, "api"));
    CHECK(healbot_topology_contains(g, "api-svc")); /* an alias */
    CHECK(!healbot_topology_contains(g, "nope"));
    CHECK(!healbot_topology_contains(g, "\xff"));
    CHECK(!healbot_topology_contains(g, NULL));
    CHECK(!healbot_topology_contains(NULL, "api"));
    EXPECT_JSON(healbot_topology_node_json(g, "api-svc", &buf, &err_),
                "{\"aliases\":[\"api-svc\"],\"id\":\"api\",\"kind\":\"service\",\"labels\":{},\"replicas\":1,"
                "\"shard\":0,\"tier\":2}");
    EXPECT_JSON(healbot_topology_node_json(g, "db", &buf, &err_),
                "{\"aliases\":[],\"id\":\"db\",\"kind\":\"database\",\"labels\":{\"team\":\"data\"},\"replicas\":2,"
                "\"shard\":0,\"tier\":1}");
    EXPECT(healbot_topology_node_kind(g, "web", &kind, &err_), HEALBOT_RESULT_OK);
    CHECK(kind && strcmp(kind, "load_balancer") == 0);
    EXPECT(healbot_topology_node_kind(g, "vm", &kind, &err_), HEALBOT_RESULT_OK);
    CHECK(kind && strcmp(kind, "host") == 0);
    EXPECT(healbot_topology_node_tier(g, "cache", &tier, &err_), HEALBOT_RESULT_OK);
    CHECK(tier == 3);
    EXPECT(healbot_topology_node_tier(g, "api-svc", &tier, &err_), HEALBOT_RESULT_OK);
    CHECK(tier == 2);

    /* Dependencies and dependents, direct and transitive. */
    EXPECT_JSON(healbot_topology_dependencies_json(g, "web", &buf, &err_), "[\"api\",\"cache\",\"db\",\"vm\"]");
    EXPECT_JSON(healbot_topology_dependencies_json(g, "db", &buf, &err_), "[]");
    EXPECT_JSON(healbot_topology_direct_dependencies_json(g, "web", &buf, &err_), "[\"api\"]");
    EXPECT_JSON(healbot_topology_direct_dependencies_json(g, "api-svc", &buf, &err_), "[\"cache\",\"db\",\"vm\"]");
    EXPECT_JSON(healbot_topology_dependents_json(g, "db", &buf, &err_), "[\"api\",\"web\"]");
    EXPECT_JSON(healbot_topology_dependents_json(g, "web", &buf, &err_), "[]");
    EXPECT_JSON(healbot_topology_direct_dependents_json(g, "db", &buf, &err_), "[\"api\"]");
    EXPECT_JSON(healbot_topology_dependents_json(g, "lone", &buf, &err_), "[]");

    /* Blast radius: api (tier 2, weight 4) and web (tier 1, weight 8). */
    EXPECT(healbot_topology_blast_radius(g, "db", &radius, &err_), HEALBOT_RESULT_OK);
    CHECK(radius.nodes == 2 && radius.tier_weighted == 12.0);
    EXPECT(healbot_topology_blast_radius(g, "web", &radius, &err_), HEALBOT_RESULT_OK);
    CHECK(radius.nodes == 0 && radius.tier_weighted == 0.0);

    /* Paths. */
    EXPECT_JSON(healbot_topology_path_to_dependency_json(g, "web", "vm", &buf, &err_), "[\"web\",\"api\",\"vm\"]");
    EXPECT_JSON(healbot_topology_path_to_dependency_json(g, "web", "api-svc", &buf, &err_), "[\"web\",\"api\"]");
    EXPECT_JSON(healbot_topology_path_to_dependency_json(g, "db", "db", &buf, &err_), "[\"db\"]");
    EXPECT_JSON(healbot_topology_path_to_dependency_json(g, "vm", "web", &buf, &err_), "null");
    EXPECT_JSON(healbot_topology_path_to_dependency_json(g, "web", "lone", &buf, &err_), "null");

    /* Shards. */
    EXPECT(healbot_topology_shard_of(g, "web", &shard, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_topology_shard_of(g, "lone", &lone, &err_), HEALBOT_RESULT_OK);
    CHECK(shard == 0 && lone == 1);
    EXPECT_JSON(healbot_topology_shards_json(g, &buf, &err_),
                "[[\"cache\",\"api\",\"web\",\"db\",\"vm\"],[\"lone\"]]");

    /* Unknown and non-UTF-8 nodes; outputs untouched on failure. */
    buf = SENTINEL;
    kind = SENTINEL;
    tier = 99;
    shard = 99;
    radius.nodes = 99;
    for (s = "nope"; s; s = (s[0] == 'n' ? "\xff" : NULL)) {
        EXPECT(healbot_topology_node_json(g, s, &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_node_kind(g, s, &kind, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_node_tier(g, s, &tier, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_dependencies_json(g, s, &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_dependents_json(g, s, &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_direct_dependencies_json(g, s, &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_direct_dependents_json(g, s, &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_blast_radius(g, s, &radius, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_path_to_dependency_json(g, s, "db", &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_path_to_dependency_json(g, "db", s, &buf, &err_), HEALBOT_RESULT_INVALID_INPUT);
        EXPECT(healbot_topology_shard_of(g, s, &shard, &err_), HEALBOT_RESULT_INVALID_INPUT);
    }
    {
        /* The error names the node. */
        healbot_error *err = NULL;
        CHECK(healbot_topology_dependents_json(g, "nope", &buf, &err) == HEALBOT_RESULT_INVALID_INPUT);
        CHECK(err && strstr(healbot_error_message(err), "unknown node `nope`") != NULL);
        healbot_error_free(err);
        /* Without an error out-parameter the code still comes back. */
        CHECK(healbot_topology_shard_of(g, "nope", &shard, NULL) == HEALBOT_RESULT_INVALID_INPUT);
    }

    /* NULL parameters. */
    EXPECT(healbot_topology_nodes_json(NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_nodes_json(g, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_shards_json(NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_shards_json(g, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_json(NULL, "api", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_json(g, NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_json(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_kind(NULL, "api", &kind, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_kind(g, NULL, &kind, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_kind(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_tier(NULL, "api", &tier, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_tier(g, NULL, &tier, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_node_tier(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_dependencies_json(NULL, "api", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_dependencies_json(g, NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_dependencies_json(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_dependents_json(NULL, "api", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_dependents_json(g, NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_dependents_json(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_direct_dependencies_json(NULL, "api", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_direct_dependencies_json(g, NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_direct_dependencies_json(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_direct_dependents_json(NULL, "api", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_direct_dependents_json(g, NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_direct_dependents_json(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_blast_radius(NULL, "api", &radius, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_blast_radius(g, NULL, &radius, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_blast_radius(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_path_to_dependency_json(NULL, "web", "db", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_path_to_dependency_json(g, NULL, "db", &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_path_to_dependency_json(g, "web", NULL, &buf, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_path_to_dependency_json(g, "web", "db", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_shard_of(NULL, "api", &shard, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_shard_of(g, NULL, &shard, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_topology_shard_of(g, "api", NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(buf == SENTINEL && kind == SENTINEL && tier == 99 && shard == 99 && radius.nodes == 99);

    healbot_topology_free(g);
}

/* How many times `what` occurs in `s`. */
static int count(const char *s, const char *what) {
    int n = 0;
    for (s = strstr(s, what); s; s = strstr(s + 1, what)) n++;
    return n;
}

static void test_diagnose(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_buffer *json = SENTINEL;
    healbot_decisions *ds = NULL;
    const char *s;

    /* Nothing ingested yet: no diagnosis. */
    EXPECT_JSON(healbot_engine_diagnose_json(engine, 1000, &buf, &err_), "[]");

    feed_hot_cpu(engine);
    json = NULL;
    EXPECT(healbot_engine_diagnose_json(engine, 1060000, &json, &err_), HEALBOT_RESULT_OK);
    s = json ? (const char *)healbot_buffer_data(json) : "";
    CHECK(s[0] == '[' && healbot_buffer_len(json) > 2);
    CHECK(strstr(s, "\"signature\":\"cpu.hot\"") != NULL);
    CHECK(strstr(s, "\"node_id\":\"api\"") != NULL);
    CHECK(strstr(s, "\"category\":\"saturation\"") != NULL);
    CHECK(strstr(s, "\"at\":1060000") != NULL);
    CHECK(strstr(s, "\"satisfied\":true") != NULL);
    CHECK(strstr(s, "\"verdict\"") == NULL); /* diagnoses, not decisions */
    CHECK(count(s, "\"signature\":") == 1); /* one diagnosis */
    healbot_buffer_free(json);

    /* Diagnosing decides nothing: the engine still decides afterwards. */
    EXPECT(healbot_engine_evaluate(engine, 1060000, &ds, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_decisions_count(ds) == 1);
    healbot_decisions_free(ds);

    json = SENTINEL;
    EXPECT(healbot_engine_diagnose_json(NULL, 1, &json, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_diagnose_json(engine, 1, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(json == SENTINEL);
    healbot_engine_free(engine);
}

/* A log signature: two lines ending in OutOfMemoryError within 5 minutes. */
static const char LOG_SIGS[] =
    "apiVersion: healbot.dev/v1\n"
    "kind: SignatureLibrary\n"
    "metadata: {name: logs}\n"
    "spec:\n"
    "  signatures:\n"
    "    - id: oom\n"
    "      title: Out of memory\n"
    "      category: resource\n"
    "      severity: warning\n"
    "      match: {log: {endswith: OutOfMemoryError, window: 5m, threshold: 2}}\n";

static healbot_engine *log_engine(void) {
    healbot_library *lib = NULL;
    healbot_topology *topo = small_topology();
    healbot_engine *engine = NULL;
    const char *config = "{\"max_log_line_len\": 40}";
    EXPECT(healbot_library_new("logs.yaml", u8(LOG_SIGS), len(LOG_SIGS), 0, &lib, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_new(lib, topo, u8(config), len(config), &engine, &err_), HEALBOT_RESULT_OK);
    healbot_library_free(lib);
    healbot_topology_free(topo);
    return engine;
}

/* The signature ids of the decisions at `at_ms`, joined by spaces. */
static void decided(healbot_engine *engine, int64_t at_ms, char *out, size_t cap) {
    healbot_decisions *ds = NULL;
    size_t i;
    out[0] = '\0';
    EXPECT(healbot_engine_evaluate(engine, at_ms, &ds, &err_), HEALBOT_RESULT_OK);
    for (i = 0; i < healbot_decisions_count(ds); i++) {
        const healbot_decision *d = healbot_decisions_get(ds, i);
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s@%s", used ? " " : "", d->signature_id ? d->signature_id : "-",
                 d->node);
    }
    healbot_decisions_free(ds);
}

static void test_log_text(void) {
    /* CRLF line ends, an empty line, no newline at the end. */
    static const char CRLF[] = "GET / 200\r\njava.lang.OutOfMemoryError\r\n\r\nOutOfMemoryError";
    static const char FIRST[] = "GET / 200\r\njava.lang.OutOfMemoryError\r\n";
    /* Invalid UTF-8, a CRLF line end, and a line over the 40-byte limit. */
    static const char BYTES[] =
        "\xff\xfe OutOfMemoryError\r\n"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx OutOfMemoryError\n"
        "\xc3(OutOfMemoryError\n";
    healbot_engine *engine = log_engine();
    healbot_engine *bytes = log_engine();
    healbot_log_report report = {99, 99, 99, 99};
    healbot_error *err = NULL;
    char seen[256];
    char *s;

    /* One match: under the threshold. */
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, u8(FIRST), len(FIRST), 1000, &report, &err_),
           HEALBOT_RESULT_OK);
    CHECK(report.lines == 2 && report.ingested == 2 && report.dropped == 0 && report.unattached == 0);
    decided(engine, 2000, seen, sizeof seen);
    CHECK(strcmp(seen, "") == 0);
    /* The whole text: the second match (the \r is not part of the line) fires oom on api. */
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, u8(CRLF), len(CRLF), 3000, &report, &err_),
           HEALBOT_RESULT_OK);
    CHECK(report.lines == 4 && report.ingested == 4 && report.dropped == 0 && report.unattached == 0);
    decided(engine, 4000, seen, sizeof seen);
    CHECK(strcmp(seen, "oom@api") == 0);

    /* Invalid UTF-8 is matched with U+FFFD in place; the long line is dropped. */
    EXPECT(healbot_engine_ingest_log_text(bytes, API, sizeof API, u8(BYTES), len(BYTES), 1000, &report, &err_),
           HEALBOT_RESULT_OK);
    CHECK(report.lines == 3 && report.ingested == 2 && report.dropped == 1 && report.unattached == 0);
    decided(bytes, 2000, seen, sizeof seen);
    CHECK(strcmp(seen, "oom@api") == 0);
    s = stats(bytes);
    CHECK(strstr(s, "\"log\":2") != NULL);
    CHECK(strstr(s, "\"payload_limit\":1") != NULL);
    free(s);

    /* Labels that attach to no node: counted, not matched. */
    EXPECT(healbot_engine_ingest_log_text(bytes, WEB, sizeof WEB, u8(CRLF), len(CRLF), 1000, &report, &err_),
           HEALBOT_RESULT_OK);
    CHECK(report.lines == 4 && report.ingested == 0 && report.dropped == 0 && report.unattached == 4);
    EXPECT(healbot_engine_ingest_log_text(bytes, NULL, 0, u8("a\nb\n"), 4, 1000, &report, &err_), HEALBOT_RESULT_OK);
    CHECK(report.lines == 2 && report.ingested == 0 && report.unattached == 2);
    s = stats(bytes);
    CHECK(strstr(s, "\"log\":2") != NULL);
    CHECK(strstr(s, "\"unknown_node\":4") != NULL);
    CHECK(strstr(s, "\"no_attach_label\":2") != NULL);
    free(s);

    /* An empty text: no line. A newline alone: one empty line. */
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, NULL, 0, 5000, &report, &err_), HEALBOT_RESULT_OK);
    CHECK(report.lines == 0 && report.ingested == 0 && report.dropped == 0 && report.unattached == 0);
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, u8("\n"), 1, 5000, &report, &err_),
           HEALBOT_RESULT_OK);
    CHECK(report.lines == 1 && report.ingested == 1);
    /* No report wanted. */
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, u8(CRLF), len(CRLF), 5000, NULL, &err_),
           HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, u8(CRLF), len(CRLF), 5000, NULL, NULL),
           HEALBOT_RESULT_OK);

    /* Errors leave the report as it was and ingest nothing. */
    report.lines = 99;
    CHECK(healbot_engine_ingest_log_text(engine, API, sizeof API - 1, u8(CRLF), len(CRLF), 5000, &report, &err) ==
          HEALBOT_RESULT_INVALID_INPUT);
    CHECK(err && strstr(healbot_error_message(err), "label buffer") != NULL);
    healbot_error_free(err);
    EXPECT(healbot_engine_ingest_log_text(engine, "service\0api\0db", 15, u8(CRLF), len(CRLF), 5000, &report, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_ingest_log_text(engine, NULL, 3, u8(CRLF), len(CRLF), 5000, &report, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_ingest_log_text(engine, API, sizeof API, NULL, 3, 5000, &report, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_ingest_log_text(NULL, API, sizeof API, u8(CRLF), len(CRLF), 5000, &report, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(healbot_engine_ingest_log_text(engine, API, 3, u8(CRLF), len(CRLF), 5000, NULL, NULL) ==
          HEALBOT_RESULT_INVALID_INPUT);
    CHECK(report.lines == 99);
    s = stats(engine);
    CHECK(strstr(s, "\"log\":15") != NULL); /* 2 + 4 + 0 + 1 + 4 + 4 */
    free(s);

    healbot_engine_free(engine);
    healbot_engine_free(bytes);
}

static void test_snapshot_reload(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_engine *restored = SENTINEL;
    healbot_library *lib = small_library();
    healbot_library *other = NULL;
    healbot_topology *topo = small_topology();
    healbot_buffer *snap = SENTINEL;
    healbot_decisions *ds = NULL;
    healbot_error *err = NULL;
    char *s;

    feed_hot_cpu(engine);
    EXPECT(healbot_engine_snapshot(engine, &snap, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_buffer_len(snap) > 16);
    EXPECT(healbot_engine_restore(lib, topo, NULL, 0, healbot_buffer_data(snap), healbot_buffer_len(snap), &restored,
                                  &err_),
           HEALBOT_RESULT_OK);
    s = stats(restored);
    CHECK(strstr(s, "\"series\":1") != NULL);
    free(s);
    EXPECT(healbot_engine_evaluate(restored, 1060000, &ds, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_decisions_count(ds) == 1);
    healbot_decisions_free(ds);
    /* A series handle of the snapshot's engine names the same series in the
       restored one, which holds no table of handles. */
    {
        uint64_t h = 0, again = 0;
        EXPECT(healbot_engine_resolve_series(engine, "cpu", API, sizeof API, &h, &err_), HEALBOT_RESULT_OK);
        EXPECT(healbot_engine_resolve_series(restored, "cpu", API, sizeof API, &again, &err_), HEALBOT_RESULT_OK);
        CHECK(h != 0 && again == h);
        EXPECT(healbot_engine_ingest_by_handle(restored, h, 0.5, 1070000, &err_), HEALBOT_RESULT_OK);
        s = stats(restored);
        CHECK(strstr(s, "\"ingested_metrics\":8") != NULL);
        free(s);
    }
    healbot_engine_free(restored);

    restored = SENTINEL;
    /* A damaged snapshot, an empty one, and one of another library. */
    {
        size_t n = healbot_buffer_len(snap);
        uint8_t *copy = malloc(n);
        memcpy(copy, healbot_buffer_data(snap), n);
        copy[n - 1] ^= 0xff;
        copy[n / 2] ^= 0xff;
        EXPECT(healbot_engine_restore(lib, topo, NULL, 0, copy, n, &restored, &err_), HEALBOT_RESULT_SNAPSHOT);
        copy[0] ^= 0xff;
        EXPECT(healbot_engine_restore(lib, topo, NULL, 0, copy, n, &restored, &err_), HEALBOT_RESULT_SNAPSHOT);
        free(copy);
    }
    EXPECT(healbot_engine_restore(lib, topo, NULL, 0, NULL, 0, &restored, &err_), HEALBOT_RESULT_SNAPSHOT);
    EXPECT(healbot_library_new("lib.json", u8(SIGS_JSON), len(SIGS_JSON), 0, &other, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_engine_restore(other, topo, NULL, 0, healbot_buffer_data(snap), healbot_buffer_len(snap),
                                 &restored, &err) == HEALBOT_RESULT_SNAPSHOT);
    CHECK(err && strlen(healbot_error_message(err)) > 0);
    healbot_error_free(err);
    EXPECT(healbot_engine_restore(NULL, topo, NULL, 0, healbot_buffer_data(snap), healbot_buffer_len(snap),
                                  &restored, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_restore(lib, NULL, NULL, 0, healbot_buffer_data(snap), healbot_buffer_len(snap),
                                  &restored, &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_restore(lib, topo, NULL, 0, NULL, 10, &restored, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_restore(lib, topo, u8("x"), 1, healbot_buffer_data(snap), healbot_buffer_len(snap),
                                  &restored, &err_),
           HEALBOT_RESULT_INVALID_INPUT);
    EXPECT(healbot_engine_restore(lib, topo, NULL, 0, healbot_buffer_data(snap), healbot_buffer_len(snap), NULL,
                                  &err_),
           HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(restored == SENTINEL);
    healbot_buffer_free(snap);
    snap = SENTINEL;
    EXPECT(healbot_engine_snapshot(NULL, &snap, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_snapshot(engine, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    CHECK(snap == SENTINEL);

    /* Reload: another library (cpu.hot without actions) takes over; the windows stay. */
    EXPECT(healbot_engine_reload_library(engine, other, &err_), HEALBOT_RESULT_OK);
    EXPECT(healbot_engine_evaluate(engine, 1060000, &ds, &err_), HEALBOT_RESULT_OK);
    CHECK(healbot_decisions_count(ds) == 1);
    CHECK(healbot_decisions_count(ds) == 1 && healbot_decisions_get(ds, 0)->action_id == NULL);
    CHECK(healbot_decisions_count(ds) == 1 && healbot_decisions_get(ds, 0)->verdict == HEALBOT_VERDICT_OBSERVE);
    healbot_decisions_free(ds);
    EXPECT(healbot_engine_reload_library(NULL, other, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    EXPECT(healbot_engine_reload_library(engine, NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);

    healbot_library_free(other);
    healbot_library_free(lib);
    healbot_topology_free(topo);
    healbot_engine_free(engine);
}

static void test_decisions_null(void) {
    uint32_t v;
    CHECK(healbot_decisions_count(NULL) == 0);
    CHECK(healbot_decisions_get(NULL, 0) == NULL);
    healbot_decisions_free(NULL);
    for (v = HEALBOT_VERDICT_EXECUTE; v <= HEALBOT_VERDICT_OBSERVE; v++) CHECK(healbot_verdict_name(v) != NULL);
    CHECK(strcmp(healbot_verdict_name(HEALBOT_VERDICT_SUPPRESS), "suppress") == 0);
    CHECK(healbot_verdict_name(0) == NULL);
    CHECK(healbot_verdict_name(6) == NULL);
}

static void test_engine_panic(void) {
    healbot_engine *engine = new_engine(NULL);
    healbot_error *err = NULL;
    CHECK(healbot_engine_test_panic(engine, &err) == HEALBOT_RESULT_PANIC);
    CHECK(err && strstr(healbot_error_message(err), "healbot_engine_test_panic") != NULL);
    healbot_error_free(err);
    err = NULL;
    /* The engine is poisoned: every later call says so. */
    CHECK(healbot_engine_ingest_metric(engine, "cpu", API, sizeof API, 1, 1, &err) == HEALBOT_RESULT_PANIC);
    CHECK(err && strstr(healbot_error_message(err), "free it") != NULL);
    healbot_error_free(err);
    EXPECT(healbot_engine_test_panic(NULL, &err_), HEALBOT_RESULT_NULL_PARAMETER);
    healbot_engine_free(engine);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/shop";
    test_version();
    test_results();
    test_panic();
    test_error_null();
    test_buffer_null();
    test_library(dir);
    test_topology(dir);
    test_engine_new();
    test_ingest();
    test_impossible_arrays();
    test_series_handles();
    test_evaluate();
    test_graph();
    test_diagnose();
    test_log_text();
    test_snapshot_reload();
    test_decisions_null();
    test_engine_panic();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
