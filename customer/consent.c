/*
 * parley-customer's consent (consent.h): the notice, and the answers
 * purpose by purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent.h"

void show_notice(struct chat *c, const parley_directory *dir)
{
    size_t n = parley_directory_purpose_count(dir), k = 0;
    const char **purposes = n > 0 ? calloc(n, sizeof(*purposes)) : NULL;

    for (size_t i = 0; purposes != NULL && i < n; i++)
        if (parley_directory_purpose_required(dir, i))
            purposes[k++] = parley_directory_purpose(dir, i);
    chat_notice(c, parley_directory_notice_version(dir), parley_directory_notice_text(dir),
                purposes, k);
    free(purposes);
}

parley_err consent_per_purpose(parley_client *client, const char *const *accept, size_t n_accept,
                               int (*ask)(void *arg, const char *question), void *ask_arg)
{
    const char *accepted[PARLEY_MAX_PURPOSES];
    size_t n = 0;
    parley_directory *dir = NULL;
    parley_err err = parley_client_directory(client, &dir);

    if (err != PARLEY_OK)
        return err;
    for (size_t i = 0; i < n_accept && n < PARLEY_MAX_PURPOSES; i++)
        accepted[n++] = accept[i];
    for (size_t i = 0; i < parley_directory_purpose_count(dir) && n < PARLEY_MAX_PURPOSES; i++) {
        const char *name = parley_directory_purpose(dir, i);
        const char *text = parley_directory_purpose_description(dir, i);
        char question[PARLEY_MAX_PURPOSE_TEXT + PARLEY_MAX_ID + 64];
        bool given = false;

        for (size_t j = 0; j < n_accept; j++)
            given = given || strcmp(accept[j], name) == 0;
        if (parley_directory_purpose_required(dir, i) || given || ask == NULL)
            continue;
        snprintf(question, sizeof(question), "Optional: %s%s%s%s? [y/N] ", name,
                 text[0] != '\0' ? " (" : "", text, text[0] != '\0' ? ")" : "");
        if (ask(ask_arg, question))
            accepted[n++] = name;
    }
    err = parley_client_consent(client, accepted, n);
    parley_directory_free(dir);
    return err;
}

bool optional_purpose(parley_client *client, const char *purpose)
{
    parley_directory *dir = NULL;
    int i;
    bool optional;

    if (parley_client_directory(client, &dir) != PARLEY_OK)
        return false;
    i = parley_directory_find_purpose(dir, purpose);
    optional = i >= 0 && !parley_directory_purpose_required(dir, (size_t)i);
    parley_directory_free(dir);
    return optional;
}
