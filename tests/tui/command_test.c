/*
 * The command parser: every command, its argument checks, messages,
 * "//" escapes and unknown commands.
 */
#include <string.h>

#include "check.h"
#include "command.h"

static struct command parse(const char *s)
{
    static char line[256];
    struct command c;

    snprintf(line, sizeof(line), "%s", s);
    command_parse(line, &c);
    return c;
}

int main(void)
{
    struct command c;

    CHECK(parse("").kind == CMD_NONE);
    CHECK(parse("   ").kind == CMD_NONE);
    c = parse("  Bonjour \xf0\x9f\x99\x8f  ");
    CHECK(c.kind == CMD_TEXT && strcmp(c.text, "Bonjour \xf0\x9f\x99\x8f") == 0);
    c = parse("//etc/hosts is a file");
    CHECK(c.kind == CMD_TEXT && strcmp(c.text, "/etc/hosts is a file") == 0);
    CHECK(parse("/claim").kind == CMD_CLAIM);
    CHECK(parse("/claim now").kind == CMD_ERROR);
    CHECK(parse("/verify").kind == CMD_VERIFY);
    CHECK(parse("/help").kind == CMD_HELP);
    CHECK(parse("/quit").kind == CMD_QUIT);
    c = parse("/transfer bob");
    CHECK(c.kind == CMD_TRANSFER && strcmp(c.name, "bob") == 0);
    c = parse("/transfer");
    CHECK(c.kind == CMD_ERROR && strstr(c.error, "usage: /transfer") != NULL);
    CHECK(parse("/transfer bob alice").kind == CMD_ERROR);
    CHECK(parse("/transfer Bob").kind == CMD_ERROR);
    c = parse("/close");
    CHECK(c.kind == CMD_CLOSE && c.text[0] == '\0');
    c = parse("/close  r\xc3\xa9solu ");
    CHECK(c.kind == CMD_CLOSE && strcmp(c.text, "r\xc3\xa9solu") == 0);
    CHECK(parse("/canned").kind == CMD_CANNED_LIST);
    c = parse("/canned hello");
    CHECK(c.kind == CMD_CANNED && strcmp(c.name, "hello") == 0);
    c = parse("/canned add hello Bonjour, je regarde.");
    CHECK(c.kind == CMD_CANNED_ADD && strcmp(c.name, "hello") == 0 &&
          strcmp(c.text, "Bonjour, je regarde.") == 0);
    CHECK(parse("/canned add hello").kind == CMD_ERROR);
    CHECK(parse("/canned add h\xc3\xa9 x").kind == CMD_ERROR);
    c = parse("/canned del hello");
    CHECK(c.kind == CMD_CANNED_DEL && strcmp(c.name, "hello") == 0);
    CHECK(parse("/canned hello there").kind == CMD_ERROR);
    c = parse("/search  colis parti");
    CHECK(c.kind == CMD_SEARCH && strcmp(c.text, "colis parti") == 0);
    CHECK(parse("/search").kind == CMD_ERROR);
    c = parse("/export");
    CHECK(c.kind == CMD_EXPORT && c.text[0] == '\0');
    c = parse("/export  /tmp/acces-demande.json");
    CHECK(c.kind == CMD_EXPORT && strcmp(c.text, "/tmp/acces-demande.json") == 0);
    c = parse("/export --customer  /tmp/client.json");
    CHECK(c.kind == CMD_EXPORT_CUSTOMER && strcmp(c.text, "/tmp/client.json") == 0);
    c = parse("/export --customer");
    CHECK(c.kind == CMD_EXPORT_CUSTOMER && c.text[0] == '\0');
    c = parse("/redact");
    CHECK(c.kind == CMD_REDACT && c.n == 1);
    c = parse("/redact 3");
    CHECK(c.kind == CMD_REDACT && c.n == 3);
    CHECK(parse("/redact 0").kind == CMD_ERROR);
    CHECK(parse("/redact -1").kind == CMD_ERROR);
    CHECK(parse("/redact 2x").kind == CMD_ERROR);
    CHECK(parse("/redact 99999999999999999999").kind == CMD_ERROR);
    c = parse("/export --customers.json");
    CHECK(c.kind == CMD_EXPORT && strcmp(c.text, "--customers.json") == 0);
    c = parse("/frobnicate x");
    CHECK(c.kind == CMD_ERROR && strstr(c.error, "unknown command /frobnicate") != NULL);
    CHECK(command_agent_id_valid("alice.m-2_x"));
    CHECK(!command_agent_id_valid(""));
    CHECK(command_help[0] != NULL);
    printf("ok\n");
    return 0;
}
