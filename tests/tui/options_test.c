/*
 * parley-agent's command line: the required options, the data-protection
 * switches (--keep-on-erasure, --history-days) and the usage errors a
 * mistyped value gets, each with a one-line reason.
 */
#include <string.h>

#include "check.h"
#include "options.h"

#define BASE "parley-agent", "--relay", "ws://127.0.0.1:1/", "--brand", "b", "--key", "k", \
             "--cert", "c", "--store", "s"

static int parse(struct options *o, char *err, size_t cap, int argc, const char **argv)
{
    err[0] = '\0';
    return options_parse(o, argc, (char **)argv, err, cap);
}

#define PARSE(o, err, ...)                                                                         \
    parse((o), (err), sizeof(err), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)), \
          (const char *[]){__VA_ARGS__})

int main(void)
{
    struct options o;
    char err[256];

    CHECK(PARSE(&o, err, BASE) == 0);
    CHECK(o.keep_on_erasure == 0 && o.history_days == 0);
    CHECK(strcmp(o.store_path, "s") == 0);

    CHECK(PARSE(&o, err, BASE, "--keep-on-erasure", "--history-days", "30") == 0);
    CHECK(o.keep_on_erasure == 1 && o.history_days == 30);

    static const char *bad_days[] = {"0", "-1", "36501", "3x", "", " 5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++) {
        CHECK(PARSE(&o, err, BASE, "--history-days", bad_days[i]) == -1);
        CHECK(strcmp(err, "--history-days takes days, 1..36500") == 0);
    }
    CHECK(PARSE(&o, err, BASE, "--history-days") == -1);
    CHECK(strcmp(err, "--history-days needs a value") == 0);

    CHECK(PARSE(&o, err, "parley-agent", "--keep-on-erasure") == -1);
    CHECK(strstr(err, "are required") != NULL);
    CHECK(PARSE(&o, err, BASE, "--keep-on-erasures") == -1);
    CHECK(strcmp(err, "unknown option --keep-on-erasures (try --help)") == 0);
    return 0;
}
